"""Sign in with Apple end to end against the Apple-shaped local upstream: form_post across
sites, the ES256 client secret it verifies, first-authorization name, private relay e-mail,
and every way it must fail without creating anything."""

from __future__ import annotations

import time

import pytest

from app.extensions import db
from app.models import FederatedIdentity, User
from tests.federation.flows import (
    apple_round_trip,
    begin_authorization,
    csrf_token,
    exchange_code,
    follow_to_app,
)


def _users(app):
    with app.app_context():
        return [(u.email, u.email_verified, dict(u.attributes)) for u in
                db.session.scalars(db.select(User))]


def _identities(app):
    with app.app_context():
        return [(i.provider, i.subject, i.user_id) for i in
                db.session.scalars(db.select(FederatedIdentity))]


@pytest.fixture
def oauth_client(apple_app):
    from app.oauth.clients import create_client

    with apple_app.app_context():
        new = create_client(name="Test App", redirect_uris=["http://127.0.0.1:9999/cb"],
                            grant_types=["authorization_code", "refresh_token"],
                            is_first_party=True)
        db.session.commit()
        return {"client_id": new.client.client_id, "client_secret": new.client_secret,
                "redirect_uri": "http://127.0.0.1:9999/cb"}


@pytest.fixture
def client(apple_app):
    return apple_app.test_client()


def test_first_login_creates_the_user_and_the_app_gets_frontdesk_tokens(
        apple_app, client, oauth_client, apple_upstream):
    req, ix = begin_authorization(client, oauth_client)
    start = client.get(f"/federation/apple/start?interaction={ix}")
    from tests.federation.apple_upstream import authorize_query

    sent = authorize_query(start.location)
    assert sent["response_mode"] == "form_post" and sent["code_challenge_method"] == "S256"
    assert sent["redirect_uri"] == "http://127.0.0.1:5000/federation/apple/callback"
    assert sent["scope"] == "name email" and sent["nonce"] and sent["state"]

    params = follow_to_app(client, apple_round_trip(apple_app, client, ix), req.redirect_uri)
    assert params["state"] == req.state
    tokens, claims = exchange_code(client, oauth_client, req, params["code"])
    assert "fed" in claims["amr"]
    assert claims["iss"] == "http://127.0.0.1:5000"  # Frontdesk's token, not Apple's
    assert claims["email"] == "jane@privaterelay.appleid.com"
    [(email, verified, attributes)] = _users(apple_app)
    assert verified is True
    assert attributes == {"name": "Jane Appleseed", "given_name": "Jane",
                          "family_name": "Appleseed"}
    [(provider, subject, user_id)] = _identities(apple_app)
    assert (provider, subject, user_id) == ("apple", "001234.apple-user.0001", claims["sub"])
    assert apple_upstream.token_errors == []


def test_second_login_without_the_name_keeps_it_and_reuses_the_client_secret(
        apple_app, client, oauth_client, apple_upstream):
    for _ in range(2):
        req, ix = begin_authorization(client, oauth_client)
        follow_to_app(client, apple_round_trip(apple_app, client, ix), req.redirect_uri)
        with client.session_transaction() as sess:
            sess.clear()  # sign out between the two logins
    [(_, _, attributes)] = _users(apple_app)
    assert attributes["name"] == "Jane Appleseed"
    assert len(_identities(apple_app)) == 1
    secrets_seen = apple_upstream.client_secrets_seen
    assert len(secrets_seen) == 2 and secrets_seen[0] == secrets_seen[1]


def test_user_field_cannot_change_the_email(apple_app, client, oauth_client):
    def forge(fields):
        fields["user"] = '{"name": {"firstName": "Eve"}, "email": "alice@example.com"}'

    req, ix = begin_authorization(client, oauth_client)
    follow_to_app(client, apple_round_trip(apple_app, client, ix, forge), req.redirect_uri)
    [(email, _, attributes)] = _users(apple_app)
    assert email == "jane@privaterelay.appleid.com" and attributes["name"] == "Eve"


def _back_at_login(client, response, ix, message):
    assert response.status_code == 303
    assert response.location == f"/login?interaction={ix}"
    page = client.get(response.location).get_data(as_text=True)
    assert message in page
    assert message not in client.get(response.location).get_data(as_text=True)  # shown once


def test_cancel_at_apple_comes_back_to_login_with_a_message(
        apple_app, client, oauth_client, apple_upstream):
    apple_upstream.behaviour.deny = True
    _, ix = begin_authorization(client, oauth_client)
    response = apple_round_trip(apple_app, client, ix)
    _back_at_login(client, response, ix, "Sign-in with Apple was cancelled")
    assert _users(apple_app) == [] and _identities(apple_app) == []


@pytest.mark.parametrize("override", [
    {"aud": "com.example.someone-else"},
    {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200},
    {"nonce": "not-the-nonce-we-sent"},
    {"iss": "https://appleid.apple.com.evil.example"},
], ids=["wrong-audience", "expired", "wrong-nonce", "wrong-issuer"])
def test_invalid_upstream_id_tokens_are_refused(
        apple_app, client, oauth_client, apple_upstream, override):
    apple_upstream.behaviour.claims_override = override
    _, ix = begin_authorization(client, oauth_client)
    response = apple_round_trip(apple_app, client, ix)
    _back_at_login(client, response, ix, "Sign-in with Apple did not work")
    assert _users(apple_app) == [] and _identities(apple_app) == []


def test_bad_signature_is_refused(apple_app, client, oauth_client, apple_upstream):
    apple_upstream.behaviour.sign_with_other_key = True
    _, ix = begin_authorization(client, oauth_client)
    response = apple_round_trip(apple_app, client, ix)
    _back_at_login(client, response, ix, "Sign-in with Apple did not work")
    assert _users(apple_app) == []


def test_wrong_state_is_refused(apple_app, client, oauth_client):
    def tamper(fields):
        fields["state"] = fields["state"][:-2] + "xx"

    _, ix = begin_authorization(client, oauth_client)
    response = apple_round_trip(apple_app, client, ix, tamper)
    assert response.status_code == 400
    assert "expired or was started in another browser" in response.get_data(as_text=True)
    assert _users(apple_app) == []


def test_callback_in_another_browser_is_refused(apple_app, client, oauth_client):
    _, ix = begin_authorization(client, oauth_client)
    other_browser = apple_app.test_client()
    start = client.get(f"/federation/apple/start?interaction={ix}")
    import requests

    from tests.federation.apple_upstream import form_fields

    action, fields = form_fields(requests.get(start.location, timeout=5).text)
    posted = apple_app.test_client().post("/federation/apple/callback", data=fields)
    assert posted.status_code == 303
    assert other_browser.get(posted.location).status_code == 400
    assert client.get(posted.location).status_code == 400  # the state is used up
    assert _users(apple_app) == []


def test_form_post_is_single_use_and_required(apple_app, client, oauth_client):
    _, ix = begin_authorization(client, oauth_client)
    start = client.get(f"/federation/apple/start?interaction={ix}")
    import requests

    from tests.federation.apple_upstream import form_fields

    _, fields = form_fields(requests.get(start.location, timeout=5).text)
    # a GET with the code in the query does not replace Apple's POST
    query = f"/federation/apple/callback?state={fields['state']}&code={fields['code']}"
    assert client.get(query).status_code == 400
    assert apple_app.test_client().post("/federation/apple/callback",
                                        data=fields).status_code == 400  # state used up


def test_unverified_email_of_an_existing_account_asks_for_the_password(
        apple_app, client, oauth_client, apple_upstream):
    from app.accounts.users import create_user
    from app.extensions import frontdesk_state
    from tests.conftest import PASSWORD

    with apple_app.app_context():
        owner = create_user(frontdesk_state(apple_app).settings, email="alice@example.com",
                            password=PASSWORD, verified=True)
        db.session.commit()
        owner_id = owner.id
    user = apple_upstream.behaviour.user
    user.email, user.email_verified, user.is_private_email = "alice@example.com", "false", "false"

    req, ix = begin_authorization(client, oauth_client)
    response = apple_round_trip(apple_app, client, ix)
    assert response.status_code == 303 and response.location.startswith("/federation/link")
    assert _identities(apple_app) == []  # NOT linked
    page = client.get(response.location)
    assert page.status_code == 200 and "alice@example.com" in page.get_data(as_text=True)

    token = csrf_token(page.get_data(as_text=True))
    wrong = client.post("/federation/link", data={"csrf_token": token, "interaction": ix,
                                                  "password": "not the password"})
    assert wrong.status_code == 400 and _identities(apple_app) == []
    assert client.post("/federation/link", data={"interaction": ix, "password": PASSWORD}
                       ).status_code == 400  # no CSRF token, no link
    assert _identities(apple_app) == []

    right = client.post("/federation/link", data={"csrf_token": token, "interaction": ix,
                                                  "password": PASSWORD})
    params = follow_to_app(client, right, req.redirect_uri)
    _, claims = exchange_code(client, oauth_client, req, params["code"])
    assert claims["sub"] == owner_id and {"fed", "pwd"} <= set(claims["amr"])
    assert _identities(apple_app) == [("apple", user.sub, owner_id)]
    assert len(_users(apple_app)) == 1


def test_verified_email_of_an_existing_account_links_automatically(
        apple_app, client, oauth_client, apple_upstream, ):
    from app.accounts.users import create_user
    from app.extensions import frontdesk_state

    with apple_app.app_context():
        owner = create_user(frontdesk_state(apple_app).settings, email="jane@example.com",
                            password="some long password", verified=True)
        db.session.commit()
        owner_id = owner.id
    apple_upstream.behaviour.user.email = "jane@example.com"
    apple_upstream.behaviour.user.is_private_email = "false"
    req, ix = begin_authorization(client, oauth_client)
    params = follow_to_app(client, apple_round_trip(apple_app, client, ix), req.redirect_uri)
    _, claims = exchange_code(client, oauth_client, req, params["code"])
    assert claims["sub"] == owner_id
