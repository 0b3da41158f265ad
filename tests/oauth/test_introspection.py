"""Token introspection, RFC 7662 (app/oauth/introspection.py)."""

from __future__ import annotations

from tests.oauth.conftest import add_client
from tests.oauth.helpers import basic_auth


def _introspect(client, oauth_client, token, **extra):
    return client.post("/oauth2/introspect", data={"token": token, **extra},
                       headers=basic_auth(oauth_client["client_id"],
                                          oauth_client["client_secret"]))


def test_active_access_token(flow, client, oauth_client, user):
    tokens = flow.tokens(oauth_client)
    response = _introspect(client, oauth_client, tokens["access_token"])
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["active"] is True and body["token_type"] == "Bearer"
    assert body["client_id"] == oauth_client["client_id"] and body["sub"] == user["id"]
    assert body["scope"] == "openid profile email" and body["exp"] > body["iat"]
    assert body["iss"] == "http://127.0.0.1:5000" and body["jti"]


def test_active_refresh_token(flow, client, oauth_client, user):
    tokens = flow.tokens(oauth_client)
    body = _introspect(client, oauth_client, tokens["refresh_token"],
                       token_type_hint="refresh_token").get_json()
    assert body["active"] is True and body["sub"] == user["id"]
    assert body["client_id"] == oauth_client["client_id"]


def test_inactive_tokens(flow, client, oauth_client):
    tokens = flow.tokens(oauth_client)
    rotated = flow.token(oauth_client, {"grant_type": "refresh_token",
                                        "refresh_token": tokens["refresh_token"]})
    assert rotated.status_code == 200
    assert _introspect(client, oauth_client, tokens["refresh_token"]).get_json() == \
        {"active": False}
    client.post("/oauth2/revoke", data={"token": tokens["access_token"]},
                headers=basic_auth(oauth_client["client_id"], oauth_client["client_secret"]))
    assert _introspect(client, oauth_client, tokens["access_token"]).get_json() == \
        {"active": False}
    for junk in ("nope", "a.b.c"):
        assert _introspect(client, oauth_client, junk).get_json() == {"active": False}


def test_a_client_learns_only_about_its_own_tokens(flow, client, app, oauth_client):
    tokens = flow.tokens(oauth_client)
    other = add_client(app, name="Resource Server")
    for token in (tokens["access_token"], tokens["refresh_token"]):
        assert _introspect(client, other, token).get_json() == {"active": False}


def test_client_authentication_is_required(flow, client, oauth_client, public_client):
    tokens = flow.tokens(oauth_client)
    anonymous = client.post("/oauth2/introspect", data={"token": tokens["access_token"]})
    assert anonymous.status_code == 400 and anonymous.get_json()["error"] == "invalid_client"
    wrong = client.post("/oauth2/introspect", data={"token": tokens["access_token"]},
                        headers=basic_auth(oauth_client["client_id"], "wrong"))
    assert wrong.status_code == 401
    public = client.post("/oauth2/introspect", data={"token": tokens["access_token"],
                                                     "client_id": public_client["client_id"]})
    assert public.get_json()["error"] == "invalid_client"


def test_missing_token_is_invalid_request(client, oauth_client):
    response = client.post("/oauth2/introspect", headers=basic_auth(
        oauth_client["client_id"], oauth_client["client_secret"]))
    assert response.get_json()["error"] == "invalid_request"
