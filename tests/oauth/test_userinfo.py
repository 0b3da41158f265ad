"""The UserInfo endpoint (app/oauth/userinfo.py)."""

from __future__ import annotations

import time

import pytest

from app.models import User
from app.oauth.signing import sign_jwt
from tests.oauth.helpers import basic_auth


def _bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_get_with_header(flow, client, oauth_client, user):
    tokens = flow.tokens(oauth_client)
    response = client.get("/oauth2/userinfo", headers=_bearer(tokens["access_token"]))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.get_json() == {"sub": user["id"], "email": "alice@example.com",
                                   "email_verified": True, "name": "Alice Example",
                                   "updated_at": response.get_json()["updated_at"]}


def test_post_with_header_or_form_body(flow, client, oauth_client, user):
    token = flow.tokens(oauth_client)["access_token"]
    assert client.post("/oauth2/userinfo", headers=_bearer(token)).status_code == 200
    response = client.post("/oauth2/userinfo", data={"access_token": token})
    assert response.status_code == 200 and response.get_json()["sub"] == user["id"]


def test_claims_follow_the_granted_scope(flow, client, oauth_client, user):
    tokens = flow.tokens(oauth_client, flow.request(oauth_client, scope="openid"))
    response = client.get("/oauth2/userinfo", headers=_bearer(tokens["access_token"]))
    assert response.get_json() == {"sub": user["id"]}


def test_missing_token_is_a_bare_challenge(client):
    response = client.get("/oauth2/userinfo")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="http://127.0.0.1:5000"'


@pytest.mark.parametrize("token", ["nonsense", "a.b.c", "x" * 9000])
def test_invalid_token(client, token):
    response = client.get("/oauth2/userinfo", headers=_bearer(token))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert response.get_json()["error"] == "invalid_token"


def test_expired_token(client, app, user):
    with app.test_request_context():
        now = int(time.time())
        token = sign_jwt({"iss": "http://127.0.0.1:5000", "sub": user["id"], "aud": "c",
                          "client_id": "c", "scope": "openid", "jti": "j", "iat": now - 120,
                          "exp": now - 60}, "RS256", "at+jwt")
    response = client.get("/oauth2/userinfo", headers=_bearer(token))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_id_token_is_not_an_access_token(flow, client, oauth_client):
    tokens = flow.tokens(oauth_client)
    response = client.get("/oauth2/userinfo", headers=_bearer(tokens["id_token"]))
    assert response.status_code == 401


def test_revoked_token(flow, client, oauth_client):
    tokens = flow.tokens(oauth_client)
    client.post("/oauth2/revoke", data={"token": tokens["access_token"]},
                headers=basic_auth(oauth_client["client_id"], oauth_client["client_secret"]))
    response = client.get("/oauth2/userinfo", headers=_bearer(tokens["access_token"]))
    assert response.status_code == 401


def test_token_without_openid_scope_is_insufficient(flow, client, oauth_client):
    tokens = flow.tokens(oauth_client, flow.request(oauth_client, scope="email"))
    response = client.get("/oauth2/userinfo", headers=_bearer(tokens["access_token"]))
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]


def test_disabled_or_deleted_user(flow, client, oauth_client, app, user):
    tokens = flow.tokens(oauth_client)
    with app.app_context():
        from app.extensions import db

        db.session.get(User, user["id"]).status = "disabled"
        db.session.commit()
    response = client.get("/oauth2/userinfo", headers=_bearer(tokens["access_token"]))
    assert response.status_code == 401


def test_two_tokens_at_once_is_invalid_request(flow, client, oauth_client):
    token = flow.tokens(oauth_client)["access_token"]
    response = client.post("/oauth2/userinfo", headers=_bearer(token),
                           data={"access_token": token})
    assert response.status_code == 400
    assert 'error="invalid_request"' in response.headers["WWW-Authenticate"]


def test_other_auth_schemes_are_refused(client):
    response = client.get("/oauth2/userinfo", headers={"Authorization": "Basic Zm9vOmJhcg=="})
    assert response.status_code == 400


def test_userinfo_agrees_with_the_id_token_groups_and_attributes_included(
        flow, client, oauth_client, app, user):
    from app.accounts.groups import add_member, create_group
    from app.extensions import db
    from tests.oauth.helpers import verify_jwt

    with app.app_context():
        member = db.session.get(User, user["id"])
        member.attributes = {**member.attributes, "locale": "de-DE", "nickname": ""}
        for name, precedence in (("zeta", 1), ("admins", 5), ("alpha", 1)):
            add_member(create_group(name, precedence=precedence), member)
        db.session.commit()
    tokens = flow.tokens(oauth_client, flow.request(oauth_client,
                                                    scope="openid profile email"))
    info = client.get("/oauth2/userinfo", headers=_bearer(tokens["access_token"])).get_json()
    assert info["groups"] == ["alpha", "zeta", "admins"]  # precedence, then name
    assert info["locale"] == "de-DE" and "nickname" not in info  # empty values are left out
    _, id_claims = verify_jwt(client, tokens["id_token"])
    for claim, value in info.items():
        assert id_claims[claim] == value, claim
