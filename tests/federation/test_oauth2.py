"""Plain OAuth 2.0 upstreams (no ID token) against real Facebook- and GitHub-shaped servers on
127.0.0.1: sign-in to the client's redirect URI, the verified-e-mail rule for linking, and
the failures (state, token errors, user-info) that must end on a page and create nothing."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from app.accounts.users import create_user
from app.config import ConfigError
from app.extensions import db, frontdesk_state
from app.models import FederatedIdentity, User
from tests.conftest import PASSWORD, base_config, make_app
from tests.federation.flows import begin_authorization, exchange_code, follow_to_app
from tests.federation.oauth2_upstream import OAuth2Upstream


@pytest.fixture(scope="module")
def upstream():
    server = OAuth2Upstream().start()
    yield server
    server.stop()


@pytest.fixture
def make_main(tmp_path, postgres_schema, upstream):
    """A Frontdesk with Facebook and GitHub pointed at the local server, plus a first-party
    client; returns (app, rp client dict)."""
    from app.oauth.clients import create_client

    apps = []

    def build(**entries):
        providers = [upstream.provider_settings(p, **entries.get(p, {}))
                     for p in ("facebook", "github")]
        app = make_app(tmp_path / f"main{len(apps)}", postgres_schema,
                       oauth2_providers=json.dumps(providers))
        apps.append(app)
        with app.app_context():
            new = create_client(name="Demo App", redirect_uris=["http://127.0.0.1:9999/cb"],
                                is_first_party=True)
            db.session.commit()
            rp = {"client_id": new.client.client_id, "client_secret": new.client_secret,
                  "redirect_uri": "http://127.0.0.1:9999/cb"}
        return app, rp

    yield build
    upstream.behaviour.__init__()
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def round_trip(client, provider: str, interaction: str, edit_callback=None):
    """Start at Frontdesk, let the upstream answer, bring its redirect back to Frontdesk."""
    start = client.get(f"/federation/{provider}/start?interaction={interaction}")
    assert start.status_code == 303, start.get_data(as_text=True)[:300]
    upstream = requests.get(start.location, allow_redirects=False, timeout=5)
    assert upstream.status_code == 302, upstream.text
    back = urlsplit(upstream.headers["Location"])
    query = back.query if edit_callback is None else edit_callback(back.query)
    return client.get(f"{back.path}?{query}")


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(model))


def _existing_user(app, email: str) -> str:
    with app.app_context():
        user = create_user(frontdesk_state(app).settings, email=email, password=PASSWORD,
                           verified=True)
        db.session.commit()
        return user.id


# --- unhappy paths --------------------------------------------------------------------------

def test_state_of_another_login_is_refused_and_creates_nothing(make_main):
    app, rp = make_main()
    client = app.test_client()
    _, ix = begin_authorization(client, rp)

    def forged_state(query):
        params = {k: v[0] for k, v in parse_qs(query).items()}
        params["state"] = "not-the-state-we-sent"
        return "&".join(f"{k}={v}" for k, v in params.items())

    response = round_trip(client, "github", ix, forged_state)
    assert response.status_code == 400
    assert "started in another browser" in response.get_data(as_text=True)
    assert _count(app, User) == 0 and _count(app, FederatedIdentity) == 0


def test_callback_in_another_browser_is_refused(make_main):
    app, rp = make_main()
    client, other = app.test_client(), app.test_client()
    _, ix = begin_authorization(client, rp)
    start = client.get(f"/federation/facebook/start?interaction={ix}")
    back = urlsplit(requests.get(start.location, allow_redirects=False,
                                 timeout=5).headers["Location"])
    response = other.get(f"{back.path}?{back.query}")
    assert response.status_code == 400
    assert _count(app, User) == 0


@pytest.mark.parametrize("provider", ["facebook", "github"])
def test_token_error_ends_on_the_login_page_and_creates_nothing(make_main, upstream, provider):
    app, rp = make_main()
    upstream.behaviour.token_error = True
    client = app.test_client()
    _, ix = begin_authorization(client, rp)
    response = round_trip(client, provider, ix)
    assert response.status_code == 303 and response.location == f"/login?interaction={ix}"
    label = {"facebook": "Facebook", "github": "GitHub"}[provider]
    page = client.get(response.location).get_data(as_text=True)
    assert f"Sign-in with {label} did not work" in page
    assert _count(app, User) == 0 and _count(app, FederatedIdentity) == 0
    with app.app_context():
        from app.models import AuditEvent
        reasons = [e.details.get("reason") for e in db.session.scalars(db.select(AuditEvent))
                   if e.type == "federation.failed"]
        assert reasons == ["upstream_token_error"]


def test_wrong_app_secret_fails_at_the_token_endpoint(make_main):
    app, rp = make_main(facebook={"client_secret": "a-wrong-secret"})
    client = app.test_client()
    _, ix = begin_authorization(client, rp)
    response = round_trip(client, "facebook", ix)
    assert response.location == f"/login?interaction={ix}"
    assert _count(app, User) == 0


def test_cancel_at_facebook_says_cancelled(make_main, upstream):
    app, rp = make_main()
    upstream.behaviour.deny = True
    client = app.test_client()
    _, ix = begin_authorization(client, rp)
    response = round_trip(client, "facebook", ix)
    page = client.get(response.location).get_data(as_text=True)
    assert "Sign-in with Facebook was cancelled" in page
    assert _count(app, User) == 0


def test_profile_without_an_id_is_refused(make_main, upstream):
    app, rp = make_main()
    upstream.behaviour.github_user = {"login": "ghost", "name": "No Id"}
    client = app.test_client()
    _, ix = begin_authorization(client, rp)
    response = round_trip(client, "github", ix)
    assert response.location == f"/login?interaction={ix}"
    assert _count(app, User) == 0


def test_unverified_github_email_does_not_take_over_an_account(make_main, upstream):
    app, rp = make_main()
    victim = _existing_user(app, "octo@example.com")
    upstream.behaviour.github_emails = [
        {"email": "octo@example.com", "primary": True, "verified": False, "visibility": None}]
    client = app.test_client()
    _, ix = begin_authorization(client, rp)
    response = round_trip(client, "github", ix)
    assert response.status_code == 303 and response.location.startswith("/federation/link")
    assert _count(app, FederatedIdentity) == 0
    page = client.get(response.location).get_data(as_text=True)
    assert "octo@example.com" in page  # the user must type that account's password
    with app.app_context():
        assert db.session.get(User, victim).attributes.get("github_login") is None


def test_facebook_email_never_links_by_itself(make_main):
    """Facebook's e-mail has no verified flag: treated as unverified, even with trust_email."""
    app, rp = make_main(facebook={"trust_email": True})
    _existing_user(app, "fay@example.com")
    client = app.test_client()
    _, ix = begin_authorization(client, rp)
    response = round_trip(client, "facebook", ix)
    assert response.location.startswith("/federation/link")
    assert _count(app, FederatedIdentity) == 0


# --- happy paths ------------------------------------------------------------------------------

def test_facebook_sign_in_reaches_the_app_with_a_code(make_main, upstream):
    app, rp = make_main()
    client = app.test_client()
    req, ix = begin_authorization(client, rp)
    start = client.get(f"/federation/facebook/start?interaction={ix}")
    query = parse_qs(urlsplit(start.location).query)
    assert query["code_challenge_method"] == ["S256"] and "nonce" not in query
    assert query["scope"] == ["email public_profile"]

    params = follow_to_app(client, round_trip(client, "facebook", ix), req.redirect_uri)
    _, claims = exchange_code(client, rp, req, params["code"])
    assert claims["amr"] == ["fed"] and claims["email"] == "fay@example.com"
    assert claims["email_verified"] is False
    assert "appsecret_proof ok" in upstream.seen
    with app.app_context():
        [user] = db.session.scalars(db.select(User))
        [identity] = db.session.scalars(db.select(FederatedIdentity))
        assert (identity.provider, identity.subject) == ("facebook", "10001234567")
        assert user.id == claims["sub"] and user.attributes["name"] == "Fay Book"
        assert user.password_hash is None


def test_github_sign_in_uses_the_primary_verified_email(make_main):
    app, rp = make_main()
    client = app.test_client()
    req, ix = begin_authorization(client, rp)
    params = follow_to_app(client, round_trip(client, "github", ix), req.redirect_uri)
    _, claims = exchange_code(client, rp, req, params["code"])
    assert claims["amr"] == ["fed"]
    assert claims["email"] == "octo@example.com" and claims["email_verified"] is True
    with app.app_context():
        [identity] = db.session.scalars(db.select(FederatedIdentity))
        assert (identity.provider, identity.subject) == ("github", "583231")
        [user] = db.session.scalars(db.select(User))
        assert user.attributes == {"name": "Octo Jane", "github_login": "octojane"}


def test_verified_github_email_links_to_the_existing_account(make_main):
    app, rp = make_main()
    existing = _existing_user(app, "octo@example.com")
    client = app.test_client()
    req, ix = begin_authorization(client, rp)
    params = follow_to_app(client, round_trip(client, "github", ix), req.redirect_uri)
    _, claims = exchange_code(client, rp, req, params["code"])
    assert claims["sub"] == existing and _count(app, User) == 1


def test_login_page_shows_both_buttons(make_main):
    app, rp = make_main()
    client = app.test_client()
    _, ix = begin_authorization(client, rp)
    page = client.get(f"/login?interaction={ix}").get_data(as_text=True)
    assert "Continue with Facebook" in page and "Continue with GitHub" in page
    assert f'href="/federation/github/start?interaction={ix}"' in page


# --- settings ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("entry", "message"), [
    ({"preset": "myspace", "client_id": "a", "client_secret": "b"}, "preset must be one of"),
    ({"preset": "github", "client_id": "a"}, "client_secret is required"),
    ({"name": "acme", "client_id": "a", "client_secret": "b"}, "authorize_url must be"),
    ({"preset": "github", "client_id": "a", "client_secret": "b", "colour": "red"},
     "unknown keys colour"),
    ({"preset": "github", "name": "apple", "client_id": "a", "client_secret": "b"},
     "not google, apple"),
])
def test_bad_oauth2_settings_stop_the_start(tmp_path, entry, message):
    from app.config import Settings
    from app.federation.providers import oauth2_providers

    settings = Settings(**{**base_config(tmp_path), "oauth2_providers": json.dumps([entry])})
    with pytest.raises(ConfigError, match=message):
        oauth2_providers(settings)


def test_presets_use_the_real_endpoints(tmp_path):
    from app.config import Settings
    from app.federation.providers import oauth2_providers

    settings = Settings(**{**base_config(tmp_path), "oauth2_providers": json.dumps([
        {"preset": "facebook", "client_id": "a", "client_secret": "b"},
        {"preset": "github", "client_id": "c", "client_secret": "d"}])})
    facebook, github = oauth2_providers(settings)
    assert facebook.userinfo_endpoint == "https://graph.facebook.com/v19.0/me?fields=id,name,email"
    assert facebook.appsecret_proof and not facebook.trust_email
    assert github.emails_endpoint == "https://api.github.com/user/emails" and github.trust_email
