"""The federation endpoints around the happy path: buttons on /login, unknown providers and
interactions, unreachable upstreams, the link page's limits, MFA, disabled accounts, the
account page's refusal to unlink the last way to sign in."""

from __future__ import annotations

import re

import pyotp
import pytest

from app.accounts.mfa import enable_totp
from app.accounts.users import create_user
from app.extensions import db, frontdesk_state
from app.models import AuditEvent, FederatedIdentity, User
from tests.conftest import PASSWORD, make_app
from tests.federation.conftest import apple_settings
from tests.federation.flows import (
    apple_round_trip,
    begin_authorization,
    csrf_token,
    exchange_code,
    follow_to_app,
)


@pytest.fixture
def client(apple_app):
    return apple_app.test_client()


@pytest.fixture
def oauth_client(apple_app):
    from app.oauth.clients import create_client

    with apple_app.app_context():
        new = create_client(name="Test App", redirect_uris=["http://127.0.0.1:9999/cb"],
                            is_first_party=True)
        db.session.commit()
        return {"client_id": new.client.client_id, "client_secret": new.client_secret,
                "redirect_uri": "http://127.0.0.1:9999/cb"}


def _add_user(app, email="alice@example.com", password=PASSWORD, **changes):
    with app.app_context():
        user = create_user(frontdesk_state(app).settings, email=email, password=password,
                           verified=True)
        for name, value in changes.items():
            setattr(user, name, value)
        db.session.commit()
        return user.id


def test_login_page_shows_continue_with_apple(client, oauth_client):
    _, ix = begin_authorization(client, oauth_client)
    page = client.get(f"/login?interaction={ix}").get_data(as_text=True)
    assert "Continue with Apple" in page
    assert f'href="/federation/apple/start?interaction={ix}"' in page


def test_unknown_provider_is_404(client):
    assert client.get("/federation/nope/start").status_code == 404
    assert client.get("/federation/nope/callback?state=x").status_code == 404
    assert client.post("/federation/nope/callback", data={"state": "x"}).status_code == 404


def test_form_post_only_for_providers_that_use_it(tmp_path, postgres_schema):
    app = make_app(tmp_path, postgres_schema, google_client_id="g", google_client_secret="s",
                   google_discovery_url="http://127.0.0.1:9/.well-known/openid-configuration")
    try:
        assert app.test_client().post("/federation/google/callback",
                                      data={"state": "x"}).status_code == 405
    finally:
        with app.app_context():
            db.engine.dispose()


def test_unknown_interaction_is_refused_at_start(client):
    response = client.get("/federation/apple/start?interaction=made-up")
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)


def test_unreachable_upstream_comes_back_to_login(tmp_path, postgres_schema):
    app = make_app(tmp_path, postgres_schema, google_client_id="g", google_client_secret="s",
                   google_discovery_url="http://127.0.0.1:9/.well-known/openid-configuration",
                   federation_http_timeout_seconds=2)
    try:
        client = app.test_client()
        response = client.get("/federation/google/start")
        assert response.status_code == 303 and response.location == "/login"
        assert "Sign-in with Google did not work" in client.get("/login").get_data(as_text=True)
    finally:
        with app.app_context():
            db.engine.dispose()


def test_without_an_interaction_the_user_lands_on_the_account_page(apple_app, client):
    response = apple_round_trip(apple_app, client)
    assert response.status_code == 303 and response.location == "/account"
    assert "jane@privaterelay.appleid.com" in client.get("/account").get_data(as_text=True)


def test_last_way_to_sign_in_cannot_be_unlinked_on_the_account_page(apple_app, client):
    apple_round_trip(apple_app, client)
    page = client.get("/account").get_data(as_text=True)
    with apple_app.app_context():
        [identity] = db.session.scalars(db.select(FederatedIdentity))
    response = client.post(f"/account/linked/{identity.id}/unlink",
                           data={"csrf_token": csrf_token(page)})
    assert response.status_code == 303
    with apple_app.app_context():
        assert db.session.get(FederatedIdentity, identity.id) is not None


def test_link_page_needs_a_pending_link(client):
    assert client.get("/federation/link").status_code == 400


def _to_link_page(apple_app, client, oauth_client, apple_upstream):
    _add_user(apple_app)
    user = apple_upstream.behaviour.user
    user.email, user.email_verified = "alice@example.com", False
    _, ix = begin_authorization(client, oauth_client)
    response = apple_round_trip(apple_app, client, ix)
    assert response.location.startswith("/federation/link")
    return ix, csrf_token(client.get(response.location).get_data(as_text=True))


def test_link_password_attempts_are_limited(apple_app, client, oauth_client, apple_upstream):
    ix, token = _to_link_page(apple_app, client, oauth_client, apple_upstream)
    max_failures = frontdesk_state(apple_app).settings.login_max_failures
    for _ in range(max_failures):
        wrong = client.post("/federation/link", data={"csrf_token": token, "interaction": ix,
                                                      "password": "wrong password"})
        assert "not right" in wrong.get_data(as_text=True)
    locked = client.post("/federation/link", data={"csrf_token": token, "interaction": ix,
                                                   "password": PASSWORD})
    assert locked.status_code == 400 and "Too many wrong passwords" in locked.get_data(
        as_text=True)
    with apple_app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(FederatedIdentity)) == 0
    # the lockout is the account's: the password login is locked too
    login = client.get(f"/login?interaction={ix}").get_data(as_text=True)
    attempt = client.post("/login", data={"csrf_token": csrf_token(login), "interaction": ix,
                                          "email": "alice@example.com", "password": PASSWORD})
    assert attempt.status_code != 303


def test_account_without_password_cannot_be_linked_by_password(
        apple_app, client, oauth_client, apple_upstream):
    with apple_app.app_context():
        user = create_user(frontdesk_state(apple_app).settings, email="alice@example.com",
                           password=None, verified=True)
        db.session.commit()
    user = apple_upstream.behaviour.user
    user.email, user.email_verified = "alice@example.com", False
    _, ix = begin_authorization(client, oauth_client)
    response = apple_round_trip(apple_app, client, ix)
    page = client.get(response.location).get_data(as_text=True)
    assert "has no password" in page and 'name="password"' not in page


def test_disabled_account_cannot_come_in_through_apple(apple_app, client, oauth_client):
    apple_round_trip(apple_app, client)  # creates the federated user
    with apple_app.app_context():
        db.session.scalar(db.select(User)).status = "disabled"
        db.session.commit()
    fresh = apple_app.test_client()
    _, ix = begin_authorization(fresh, oauth_client)
    response = apple_round_trip(apple_app, fresh, ix)
    assert response.location == f"/login?interaction={ix}"
    assert "cannot sign in" in fresh.get(response.location).get_data(as_text=True)


def test_enrolled_mfa_still_applies_to_federated_logins(apple_app, client, oauth_client,
                                                         apple_upstream):
    secret = pyotp.random_base32()
    apple_upstream.behaviour.user.email = "alice@example.com"
    user_id = _add_user(apple_app)
    with apple_app.app_context():
        enable_totp(frontdesk_state(apple_app).settings, db.session.get(User, user_id), secret)
        db.session.commit()
    req, ix = begin_authorization(client, oauth_client)
    response = apple_round_trip(apple_app, client, ix)
    assert response.status_code == 303 and response.location == f"/mfa?interaction={ix}"
    page = client.get(response.location).get_data(as_text=True)
    done = client.post("/mfa", data={"csrf_token": csrf_token(page), "interaction": ix,
                                     "code": pyotp.TOTP(secret).now()})
    params = follow_to_app(client, done, req.redirect_uri)
    _, claims = exchange_code(client, oauth_client, req, params["code"])
    assert claims["sub"] == user_id, claims
    assert claims["amr"] == ["fed", "otp", "mfa"], claims["amr"]  # no password was used


def test_required_mfa_sends_new_federated_users_to_enrolment(
        tmp_path, postgres_schema, apple_upstream, apple_key):
    app = make_app(tmp_path, postgres_schema, mfa_policy="required",
                   **apple_settings(apple_upstream, apple_key[1]))
    try:
        client = app.test_client()
        response = apple_round_trip(app, client)
        assert response.status_code == 303 and response.location == "/mfa/setup"
        assert client.get("/account").location.startswith("/login")  # not signed in yet
        setup = client.get("/mfa/setup")
        assert setup.status_code == 200
        assert re.search(r"authenticator", setup.get_data(as_text=True), re.I)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_interaction_gone_before_the_callback(apple_app, client, oauth_client):
    from app.oauth.interaction import KEY_PREFIX

    _, ix = begin_authorization(client, oauth_client)

    def drop_interaction(fields):
        frontdesk_state(apple_app).store.delete(KEY_PREFIX + ix)

    response = apple_round_trip(apple_app, client, ix, drop_interaction)
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)
    assert client.get("/account").status_code == 303  # not signed in for a request gone


def test_authorization_response_from_another_issuer_is_refused(apple_app, client,
                                                               oauth_client):
    def mix_up(fields):
        fields["iss"] = "https://attacker.example"  # RFC 9207: not the issuer we asked

    _, ix = begin_authorization(client, oauth_client)
    response = apple_round_trip(apple_app, client, ix, mix_up)
    assert response.location == f"/login?interaction={ix}"
    with apple_app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 0
        [event] = db.session.scalars(db.select(AuditEvent).where(
            AuditEvent.type == "federation.failed"))
        assert event.details == {"provider": "apple", "reason": "upstream_issuer_mismatch"}
