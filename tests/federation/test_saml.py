"""SAML 2.0 identity providers against a real IdP (pysaml2's IdP side, tests/federation/
saml_idp.py) on 127.0.0.1: SP metadata, SP-initiated login to the client's redirect URI, and
every refusal (unsigned, tampered, replayed, wrong audience, expired, another browser's
request, unsolicited) ending on an error page with nothing created."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from app.extensions import db
from app.models import AuditEvent, FederatedIdentity, User
from tests.conftest import make_app
from tests.federation.flows import begin_authorization, exchange_code, follow_to_app
from tests.federation.saml_idp import OTHER_SP, SamlIdp, form_fields

ACS = "/federation/acme/acs"
MAIN = "http://127.0.0.1:5000"


@pytest.fixture
def idp(tmp_path):
    server = SamlIdp(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def make_main(tmp_path, postgres_schema, idp):
    """A Frontdesk with the IdP as provider `acme` (the IdP trusting its SP metadata) and a
    first-party client; returns (app, rp client dict)."""
    from app.oauth.clients import create_client

    apps = []

    def build(**entry):
        providers = [{"name": "acme", "label": "Acme SSO", "metadata_url": idp.metadata_url,
                      "trust_email": True, **entry}]
        app = make_app(tmp_path / f"main{len(apps)}", postgres_schema,
                       saml_providers=json.dumps(providers))
        apps.append(app)
        metadata = app.test_client().get("/federation/acme/metadata")
        assert metadata.status_code == 200, metadata.get_data(as_text=True)
        idp.trust_sp(metadata.get_data(as_text=True), MAIN + "/federation/acme/metadata")
        with app.app_context():
            new = create_client(name="Demo App", redirect_uris=["http://127.0.0.1:9999/cb"],
                                is_first_party=True)
            db.session.commit()
            rp = {"client_id": new.client.client_id, "client_secret": new.client_secret,
                  "redirect_uri": "http://127.0.0.1:9999/cb"}
        return app, rp

    yield build
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def at_idp(client, interaction: str) -> tuple[str, dict[str, str]]:
    """Start at Frontdesk, let the IdP answer; the ACS URL and the form it auto-submits."""
    start = client.get(f"/federation/acme/start?interaction={interaction}")
    assert start.status_code == 303, start.get_data(as_text=True)[:300]
    page = requests.get(start.location, timeout=10)
    assert page.status_code == 200, page.text[:500]
    return form_fields(page.text)


def post_to_acs(app, client, fields: dict[str, str]):
    """The IdP's form POSTed cross-site (a fresh cookie jar), then the same-site GET."""
    posted = app.test_client().post(ACS, data=fields)
    if posted.status_code != 303:
        return posted
    assert "Set-Cookie" not in posted.headers
    return client.get(posted.location)


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(model))


def _failure_reasons(app) -> list[str]:
    with app.app_context():
        return [e.details.get("reason") for e in db.session.scalars(db.select(AuditEvent))
                if e.type == "federation.failed"]


def assert_refused(app, response, reason: str | None = None) -> None:
    assert response.status_code == 400, response.get_data(as_text=True)[:500]
    page = response.get_data(as_text=True)
    assert "Sign-in could not continue" in page
    assert _count(app, User) == 0 and _count(app, FederatedIdentity) == 0
    if reason:
        assert _failure_reasons(app) == [reason]


# --- refusals -------------------------------------------------------------------------------

def test_unsigned_response_is_refused(make_main, idp):
    app, rp = make_main()
    idp.behaviour.sign_response = idp.behaviour.sign_assertion = False
    client = app.test_client()
    _, ix = begin_authorization(client, rp)
    _, fields = at_idp(client, ix)
    assert_refused(app, post_to_acs(app, client, fields), "saml_bad_signature")


def test_sha1_signature_is_refused(make_main, idp):
    from saml2.xmldsig import DIGEST_SHA1, SIG_RSA_SHA1

    app, rp = make_main()
    idp.behaviour.sign_alg, idp.behaviour.digest_alg = SIG_RSA_SHA1, DIGEST_SHA1
    client = app.test_client()
    _, ix = begin_authorization(client, rp)
    _, fields = at_idp(client, ix)
    assert_refused(app, post_to_acs(app, client, fields), "saml_weak_signature")


def test_tampered_response_is_refused(make_main, idp):
    app, rp = make_main()
    client = app.test_client()
    _, ix = begin_authorization(client, rp)
    _, fields = at_idp(client, ix)
    xml = base64.b64decode(fields["SAMLResponse"]).decode()
    assert "sam@example.com" in xml
    forged = xml.replace("sam@example.com", "admin@example.com")
    fields["SAMLResponse"] = base64.b64encode(forged.encode()).decode()
    assert_refused(app, post_to_acs(app, client, fields), "saml_bad_signature")


def test_wrong_audience_is_refused(make_main, idp):
    app, rp = make_main()
    idp.behaviour.audience = OTHER_SP
    client = app.test_client()
    _, ix = begin_authorization(client, rp)
    _, fields = at_idp(client, ix)
    response = post_to_acs(app, client, fields)
    assert_refused(app, response)
    assert _failure_reasons(app)[0] in ("saml_refused", "saml_wrong_audience")


def test_expired_assertion_is_refused(make_main, idp):
    app, rp = make_main()
    idp.behaviour.lifetime_minutes = -10  # beyond the 60 s skew
    client = app.test_client()
    _, ix = begin_authorization(client, rp)
    _, fields = at_idp(client, ix)
    assert_refused(app, post_to_acs(app, client, fields), "saml_refused")


def test_response_to_another_browsers_request_is_refused(make_main):
    """Mallory gets a response for her own request and plants it in Alice's login."""
    app, rp = make_main()
    alice, mallory = app.test_client(), app.test_client()
    _, alice_ix = begin_authorization(alice, rp)
    _, alice_fields = at_idp(alice, alice_ix)
    _, mallory_ix = begin_authorization(mallory, rp)
    _, mallory_fields = at_idp(mallory, mallory_ix)

    planted = {"SAMLResponse": mallory_fields["SAMLResponse"],
               "RelayState": alice_fields["RelayState"]}
    assert_refused(app, post_to_acs(app, alice, planted), "saml_refused")


def test_response_rejoined_in_another_browser_is_refused(make_main):
    app, rp = make_main()
    alice, mallory = app.test_client(), app.test_client()
    _, ix = begin_authorization(alice, rp)
    _, fields = at_idp(alice, ix)
    response = post_to_acs(app, mallory, fields)  # the GET comes from Mallory's browser
    assert_refused(app, response)
    assert _failure_reasons(app) == []  # refused before the response was even read


def test_replayed_response_is_refused(make_main):
    app, rp = make_main()
    client = app.test_client()
    req, ix = begin_authorization(client, rp)
    _, fields = at_idp(client, ix)
    follow_to_app(client, post_to_acs(app, client, fields), req.redirect_uri)
    with app.app_context():
        users = _count(app, User)

    again = post_to_acs(app, client, fields)  # same RelayState: its login was used up
    assert again.status_code == 400
    thief = app.test_client()  # whoever captured it, in a login of their own
    _, ix2 = begin_authorization(thief, rp)
    _, fresh = at_idp(thief, ix2)
    replay = post_to_acs(app, thief, {"SAMLResponse": fields["SAMLResponse"],
                                      "RelayState": fresh["RelayState"]})
    assert replay.status_code == 400
    assert _count(app, User) == users == 1


def test_unsolicited_response_is_refused_by_default(make_main, idp):
    app, _ = make_main()
    page = requests.get(idp.url + "/sso/unsolicited",
                        params={"sp": MAIN + "/federation/acme/metadata"}, timeout=10)
    _, fields = form_fields(page.text)
    assert_refused(app, post_to_acs(app, app.test_client(), fields))


def test_idp_initiated_when_enabled_signs_in_once(make_main, idp):
    app, _ = make_main(idp_initiated=True)
    page = requests.get(idp.url + "/sso/unsolicited",
                        params={"sp": MAIN + "/federation/acme/metadata"}, timeout=10)
    _, fields = form_fields(page.text)
    client = app.test_client()
    first = post_to_acs(app, client, fields)
    assert first.status_code == 303 and first.location == "/account"
    replay = post_to_acs(app, app.test_client(), fields)
    assert replay.status_code == 400
    assert _failure_reasons(app) == ["saml_replayed"]
    assert _count(app, FederatedIdentity) == 1


# --- happy paths ------------------------------------------------------------------------------

def test_sp_metadata_names_the_acs_and_the_signing_certificate(make_main):
    app, _ = make_main()
    response = app.test_client().get("/federation/acme/metadata")
    assert response.headers["Content-Type"].startswith("application/samlmetadata+xml")
    xml = response.get_data(as_text=True)
    assert f'entityID="{MAIN}/federation/acme/metadata"' in xml
    assert f'Location="{MAIN}{ACS}"' in xml
    assert "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" in xml
    assert "X509Certificate" in xml and 'use="signing"' in xml


def test_authn_request_goes_out_signed_on_the_redirect_binding(make_main, idp):
    app, rp = make_main()
    client = app.test_client()
    _, ix = begin_authorization(client, rp)
    start = client.get(f"/federation/acme/start?interaction={ix}")
    assert start.location.startswith(idp.url + "/sso/redirect?")
    query = parse_qs(urlsplit(start.location).query)
    assert {"SAMLRequest", "RelayState", "SigAlg", "Signature"} <= set(query)
    assert query["SigAlg"] == ["http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"]


@pytest.mark.parametrize("signed", ["response", "assertion"])
def test_signed_login_reaches_the_app_with_fed_amr(make_main, idp, signed):
    app, rp = make_main()
    idp.behaviour.sign_response = signed == "response"
    idp.behaviour.sign_assertion = signed == "assertion"
    client = app.test_client()
    req, ix = begin_authorization(client, rp)
    action, fields = at_idp(client, ix)
    assert action == MAIN + ACS
    params = follow_to_app(client, post_to_acs(app, client, fields), req.redirect_uri)
    _, claims = exchange_code(client, rp, req, params["code"])
    assert claims["amr"] == ["fed"]
    assert claims["email"] == "sam@example.com" and claims["email_verified"] is True
    with app.app_context():
        [user] = db.session.scalars(db.select(User))
        [identity] = db.session.scalars(db.select(FederatedIdentity))
        assert (identity.provider, identity.subject) == ("acme", "sam-0001")
        assert user.attributes == {"name": "Sam Ldap", "given_name": "Sam",
                                   "family_name": "Ldap"}


def test_rotated_idp_key_is_picked_up_without_a_restart(make_main, idp):
    app, rp = make_main()
    client = app.test_client()
    req, ix = begin_authorization(client, rp)  # metadata read and cached here
    _, fields = at_idp(client, ix)
    idp.rotate_key()  # the IdP now signs with a key the cached metadata does not list
    _, ix2 = begin_authorization(client, rp)
    _, fields = at_idp(client, ix2)
    params = follow_to_app(client, post_to_acs(app, client, fields), req.redirect_uri)
    assert "code" in params


def test_untrusted_idp_email_does_not_take_over_an_account(make_main):
    from app.accounts.users import create_user
    from app.extensions import frontdesk_state
    from tests.conftest import PASSWORD

    app, rp = make_main(trust_email=False)
    with app.app_context():
        create_user(frontdesk_state(app).settings, email="sam@example.com", password=PASSWORD,
                    verified=True)
        db.session.commit()
    client = app.test_client()
    _, ix = begin_authorization(client, rp)
    _, fields = at_idp(client, ix)
    response = post_to_acs(app, client, fields)
    assert response.status_code == 303 and response.location.startswith("/federation/link")
    assert _count(app, FederatedIdentity) == 0


# --- settings ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("entry", "message"), [
    ({"name": "acme"}, "exactly one of metadata_url and metadata_file"),
    ({"name": "acme", "metadata_url": "x", "metadata_file": "/y"}, "exactly one of"),
    ({"name": "acme", "metadata_url": "ftp://idp/metadata"}, "absolute http"),
    ({"name": "acme", "metadata_file": "/m.xml", "sign": True}, "unknown keys sign"),
    ({"name": "google", "metadata_file": "/m.xml"}, "not google, apple"),
    ({"name": "acme", "metadata_file": "/m.xml", "attribute_mapping": {"mail": "email"}},
     "cannot be mapped"),
])
def test_bad_saml_settings_stop_the_start(tmp_path, entry, message):
    from app.config import ConfigError, Settings
    from app.federation.providers import saml_providers
    from tests.conftest import base_config

    settings = Settings(**{**base_config(tmp_path), "saml_providers": json.dumps([entry])})
    with pytest.raises(ConfigError, match=message):
        saml_providers(settings)


def test_metadata_from_a_file_and_uri_attribute_names(tmp_path, postgres_schema, idp):
    """Entra ID names attributes by URI; the metadata may be a downloaded file."""
    path = tmp_path / "idp-metadata.xml"
    path.write_text(requests.get(idp.metadata_url, timeout=10).text)
    claims = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/"
    app = make_app(tmp_path / "main", postgres_schema, saml_providers=json.dumps([{
        "name": "entra", "metadata_file": str(path),
        "attribute_mapping": {claims + "givenname": "given_name"}}]))
    client = app.test_client()
    assert client.get("/federation/entra/metadata").status_code == 200
    start = client.get("/federation/entra/start")
    assert start.status_code == 303 and start.location.startswith(idp.url + "/sso/redirect?")
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_login_page_shows_the_saml_button_translated(make_main):
    app, rp = make_main()
    client = app.test_client()
    _, ix = begin_authorization(client, rp)
    page = client.get(f"/login?interaction={ix}", headers={"Accept-Language": "de"})
    html = page.get_data(as_text=True)
    assert "Weiter mit Acme SSO" in html and "fd-provider--acme" in html
    assert f'href="/federation/acme/start?interaction={ix}"' in html
