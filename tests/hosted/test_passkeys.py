"""Passkeys through the hosted pages, with real WebAuthn ceremonies: a software authenticator
(a real P-256 key) answers the server's options, and the `webauthn` library checks them.
Refusals first: replay, wrong origin or rp id, another session's challenge, a removed
passkey, a counter that goes back."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Passkey, User
from tests.conftest import make_app
from tests.hosted.authenticator import SoftAuthenticator
from tests.hosted.helpers import (
    csrf_token,
    login,
    query,
    session_amr,
    signed_in_as,
    start_authorization,
    text,
)
from tests.oauth.helpers import basic_auth, verify_jwt

ISSUER = "http://localhost:5000"
RP_ID = "localhost"
REFUSED = "That passkey was not accepted"


@pytest.fixture
def app(tmp_path, postgres_schema):
    app = make_app(tmp_path, postgres_schema, issuer=ISSUER)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def options(client, url: str, page: str) -> dict:
    token = csrf_token(client.get(page))
    response = client.post(url, headers={"X-CSRFToken": token, "Accept": "application/json"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_json()


def register(client, authenticator=None, name="Laptop", **bend):
    """Add a passkey on /account/passkeys (the client is signed in); returns the response
    and the authenticator."""
    authenticator = authenticator or SoftAuthenticator(RP_ID, ISSUER)
    opts = options(client, "/account/passkeys/options", "/account/passkeys")
    token = csrf_token(client.get("/account/passkeys"))
    response = client.post("/account/passkeys", data={
        "csrf_token": token, "name": name, "credential": authenticator.register(opts, **bend)})
    return response, authenticator


@pytest.fixture
def enrolled(app, user):
    """The user with one passkey; returns its authenticator."""
    client = app.test_client()
    login(client, user["email"], user["password"])
    response, authenticator = register(client)
    assert response.status_code == 303
    return authenticator


def sign_in_options(client, interaction: str | None = None) -> dict:
    page = "/login" + (f"?interaction={interaction}" if interaction else "")
    return options(client, "/passkeys/sign-in/options", page)


def post_assertion(client, credential: str, interaction: str | None = None):
    page = "/login" + (f"?interaction={interaction}" if interaction else "")
    data = {"csrf_token": csrf_token(client.get(page)), "credential": credential}
    if interaction:
        data["interaction"] = interaction
    return client.post("/passkeys/sign-in", data=data)


def passkey_sign_in(client, authenticator, interaction=None, **bend):
    opts = sign_in_options(client, interaction)
    return post_assertion(client, authenticator.assert_(opts, **bend), interaction)


def refused(response) -> bool:
    return response.status_code == 200 and REFUSED in text(response)


def test_a_replayed_assertion_is_refused(app, enrolled):
    client = app.test_client()
    opts = sign_in_options(client)
    credential = enrolled.assert_(opts)
    assert post_assertion(client, credential).status_code == 303
    again = app.test_client()
    assert refused(post_assertion(again, credential))  # no ceremony in that session
    sign_in_options(again)  # a fresh challenge does not make the old answer fit
    assert refused(post_assertion(again, credential))
    assert signed_in_as(again) is None


def test_a_challenge_is_single_use_even_when_the_answer_fails(app, enrolled):
    client = app.test_client()
    opts = sign_in_options(client)
    assert refused(post_assertion(client, enrolled.assert_(opts, origin="http://evil.test")))
    assert refused(post_assertion(client, enrolled.assert_(opts)))  # challenge was used up


@pytest.mark.parametrize("bend", [{"origin": "http://evil.example:5000"},
                                  {"origin": "https://localhost:5000"},
                                  {"rp_id": "evil.example"},
                                  {"verified": False}])
def test_a_wrong_assertion_is_refused(app, enrolled, bend):
    client = app.test_client()
    assert refused(passkey_sign_in(client, enrolled, **bend))
    assert signed_in_as(client) is None


def test_another_sessions_challenge_is_refused(app, enrolled):
    mallory, victim = app.test_client(), app.test_client()
    victim_opts = sign_in_options(victim)
    sign_in_options(mallory)  # mallory has a ceremony of her own
    assert refused(post_assertion(mallory, enrolled.assert_(victim_opts)))
    assert signed_in_as(mallory) is None


def test_a_counter_that_goes_back_is_refused(app, enrolled):
    client = app.test_client()
    assert passkey_sign_in(client, enrolled, sign_count=7).status_code == 303
    other = app.test_client()
    assert refused(passkey_sign_in(other, enrolled, sign_count=7))
    assert refused(passkey_sign_in(other, enrolled, sign_count=3))
    with app.app_context():
        assert db.session.scalar(select(Passkey.sign_count)) == 7


def test_an_unknown_credential_is_refused(app, enrolled):
    stranger = SoftAuthenticator(RP_ID, ISSUER, user_handle=enrolled.user_handle)
    assert refused(passkey_sign_in(app.test_client(), stranger))


def test_a_removed_passkey_is_refused(app, user, enrolled):
    client = app.test_client()
    login(client, user["email"], user["password"])
    with app.app_context():
        passkey_id = db.session.scalar(select(Passkey.id))
    page = client.get("/account/passkeys")
    response = client.post(f"/account/passkeys/{passkey_id}/remove",
                           data={"csrf_token": csrf_token(page)})
    assert response.status_code == 303
    assert "No passkeys yet" in text(client.get("/account/passkeys"))
    assert refused(passkey_sign_in(app.test_client(), enrolled))


def test_a_disabled_user_cannot_sign_in_with_a_passkey(app, user, enrolled):
    with app.app_context():
        db.session.get(User, user["id"]).status = "disabled"
        db.session.commit()
    assert refused(passkey_sign_in(app.test_client(), enrolled))


def test_another_users_passkey_cannot_be_removed_or_renamed(app, user, enrolled):
    from app.accounts.users import create_user
    from app.extensions import frontdesk_state

    with app.app_context():
        create_user(frontdesk_state(app).settings, email="bob@example.com",
                    password=user["password"], verified=True)
        db.session.commit()
        passkey_id = db.session.scalar(select(Passkey.id))
    bob = app.test_client()
    login(bob, "bob@example.com", user["password"])
    token = csrf_token(bob.get("/account/passkeys"))
    bob.post(f"/account/passkeys/{passkey_id}/remove", data={"csrf_token": token})
    bob.post(f"/account/passkeys/{passkey_id}/rename", data={"csrf_token": token,
                                                             "name": "mine"})
    with app.app_context():
        assert db.session.get(Passkey, passkey_id).name == "Laptop"


def test_adding_needs_a_recent_sign_in(app, user):
    client = app.test_client()
    login(client, user["email"], user["password"])
    with client.session_transaction() as sess:
        sess["auth_time"] = sess["auth_time"] - 601
    page = text(client.get("/account/passkeys"))
    assert "sign in again to add a passkey" in page and 'name="credential"' not in page
    token = csrf_token(client.get("/account"))
    response = client.post("/account/passkeys/options", headers={"X-CSRFToken": token})
    assert response.status_code == 403 and response.get_json()["error"]


def test_options_need_the_csrf_token(app, user):
    client = app.test_client()
    client.get("/login")
    assert client.post("/passkeys/sign-in/options").status_code == 400
    login(client, user["email"], user["password"])
    assert client.post("/account/passkeys/options").status_code == 400


@pytest.mark.parametrize("bend", [{"origin": "http://evil.example:5000"},
                                  {"rp_id": "evil.example"}])
def test_a_wrong_registration_is_refused(app, user, bend):
    client = app.test_client()
    login(client, user["email"], user["password"])
    response, _ = register(client, **bend)
    assert response.status_code == 303
    assert "The passkey was not added" in text(client.get("/account/passkeys"))
    with app.app_context():
        assert db.session.scalar(select(Passkey.id)) is None


def test_a_registration_challenge_is_single_use(app, user):
    client = app.test_client()
    login(client, user["email"], user["password"])
    authenticator = SoftAuthenticator(RP_ID, ISSUER)
    opts = options(client, "/account/passkeys/options", "/account/passkeys")
    token = csrf_token(client.get("/account/passkeys"))
    first = authenticator.register(opts)
    client.post("/account/passkeys", data={"csrf_token": token, "credential": first})
    second = SoftAuthenticator(RP_ID, ISSUER).register(opts)
    client.post("/account/passkeys", data={"csrf_token": token, "credential": second})
    with app.app_context():
        assert len(db.session.scalars(select(Passkey)).all()) == 1


def test_register_then_sign_in_with_the_passkey_alone(app, user, oauth_client):
    client = app.test_client()
    login(client, user["email"], user["password"])
    response, authenticator = register(client, name="Work laptop")
    assert response.location.endswith("/account/passkeys")
    page = text(client.get("/account/passkeys"))
    assert "Your passkey is added" in page and "Work laptop" in page and "Not used yet" in page
    with app.app_context():
        stored = db.session.scalars(select(Passkey)).one()
        assert (stored.user_id, stored.device_type, stored.backed_up) == (
            user["id"], "single_device", False)
        assert db.session.scalar(select(AuditEvent.id).where(
            AuditEvent.type == "passkey_added")) is not None

    browser = app.test_client()  # signed out: a new browser, no e-mail typed
    req, interaction, _ = start_authorization(browser, oauth_client)
    assert "Sign in with a passkey" in text(browser.get(f"/login?interaction={interaction}"))
    response = passkey_sign_in(browser, authenticator, interaction)
    assert response.status_code == 303
    assert response.location.startswith(oauth_client["redirect_uri"])
    code = query(response.location)["code"]
    assert session_amr(browser) == ["hwk", "user"]
    tokens = browser.post("/oauth2/token", data=req.token_form(code), headers=basic_auth(
        oauth_client["client_id"], oauth_client["client_secret"])).get_json()
    _, claims = verify_jwt(browser, tokens["id_token"])
    assert claims["sub"] == user["id"] and "pwd" not in claims["amr"]
    assert claims["amr"] == ["hwk", "user"]
    with app.app_context():
        stored = db.session.scalars(select(Passkey)).one()
        assert stored.sign_count == 1 and stored.last_used_at is not None


def test_a_synced_passkey_says_swk_and_is_recorded_as_backed_up(app, user):
    client = app.test_client()
    login(client, user["email"], user["password"])
    _, authenticator = register(client, SoftAuthenticator(RP_ID, ISSUER, synced=True))
    with app.app_context():
        stored = db.session.scalars(select(Passkey)).one()
        assert (stored.device_type, stored.backed_up) == ("multi_device", True)
    browser = app.test_client()
    assert passkey_sign_in(browser, authenticator).status_code == 303
    assert session_amr(browser) == ["swk", "user"]


def test_a_passkey_satisfies_mfa(app, user, enrolled):
    from app.accounts.mfa import enable_totp, new_totp_secret
    from app.extensions import frontdesk_state

    with app.app_context():
        enable_totp(frontdesk_state(app).settings, db.session.get(User, user["id"]),
                    new_totp_secret())
        db.session.commit()
    client = app.test_client()
    response = passkey_sign_in(client, enrolled)
    assert response.status_code == 303 and response.location.endswith("/account")
    assert signed_in_as(client) == user["id"]


def test_rename(app, user, enrolled):
    client = app.test_client()
    login(client, user["email"], user["password"])
    with app.app_context():
        passkey_id = db.session.scalar(select(Passkey.id))
    token = csrf_token(client.get("/account/passkeys"))
    client.post(f"/account/passkeys/{passkey_id}/rename",
                data={"csrf_token": token, "name": "Phone"})
    assert "Phone" in text(client.get("/account/passkeys"))


def test_the_account_page_links_the_passkeys_page(app, user):
    client = app.test_client()
    login(client, user["email"], user["password"])
    assert 'href="/account/passkeys"' in text(client.get("/account"))


def test_an_ip_issuer_turns_passkeys_off_with_a_warning(tmp_path, postgres_schema, caplog):
    with caplog.at_level(logging.WARNING, logger="app.hosted.passkeys"):
        app = make_app(tmp_path, postgres_schema, issuer="http://127.0.0.1:5000")
    try:
        assert any("passkeys are off" in r.getMessage() and "127.0.0.1" in r.getMessage()
                   for r in caplog.records)
        client = app.test_client()
        page = client.get("/login")
        assert "Sign in with a passkey" not in text(page)
        response = client.post("/passkeys/sign-in/options",
                               headers={"X-CSRFToken": csrf_token(page)})
        assert response.status_code == 404
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
