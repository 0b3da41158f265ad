"""Token revocation, RFC 7009 (app/oauth/revocation.py)."""

from __future__ import annotations

from tests.oauth.conftest import add_client
from tests.oauth.helpers import basic_auth


def _revoke(client, oauth_client, token, **extra):
    return client.post("/oauth2/revoke", data={"token": token, **extra},
                       headers=basic_auth(oauth_client["client_id"],
                                          oauth_client["client_secret"]))


def _refresh(flow, oauth_client, token):
    return flow.token(oauth_client, {"grant_type": "refresh_token", "refresh_token": token})


def test_revoking_a_refresh_token_revokes_its_family(flow, client, oauth_client):
    first = flow.tokens(oauth_client)
    second = _refresh(flow, oauth_client, first["refresh_token"]).get_json()
    response = _revoke(client, oauth_client, second["refresh_token"],
                       token_type_hint="refresh_token")
    assert response.status_code == 200 and response.get_json() == {}
    assert response.headers["Cache-Control"] == "no-store"
    assert _refresh(flow, oauth_client, second["refresh_token"]).status_code == 400


def _bearer(client, tokens) -> int:
    return client.get("/oauth2/userinfo", headers={
        "Authorization": "Bearer " + tokens["access_token"]}).status_code


def test_revoking_a_refresh_token_revokes_the_access_tokens_of_the_grant(flow, client, app,
                                                                        oauth_client):
    """RFC 7009 §2.1: "SHOULD also invalidate all access tokens based on the same
    authorization grant": the first one and the refreshed one, at userinfo and introspection;
    the same user's tokens at another client live on."""
    other = add_client(app, name="Other", is_first_party=True)
    elsewhere = flow.tokens(other)
    first = flow.tokens(oauth_client)
    second = _refresh(flow, oauth_client, first["refresh_token"]).get_json()
    assert _bearer(client, first) == _bearer(client, second) == 200
    assert _revoke(client, oauth_client, second["refresh_token"]).status_code == 200
    assert _bearer(client, first) == _bearer(client, second) == 401
    introspected = client.post("/oauth2/introspect", data={"token": second["access_token"]},
                               headers=basic_auth(oauth_client["client_id"],
                                                  oauth_client["client_secret"]))
    assert introspected.get_json() == {"active": False}
    assert _bearer(client, elsewhere) == 200
    assert _bearer(client, flow.tokens(oauth_client)) == 200  # signing in again works


def test_revoking_an_access_token_deny_lists_it(flow, client, oauth_client):
    tokens = flow.tokens(oauth_client)
    assert _revoke(client, oauth_client, tokens["access_token"]).status_code == 200
    userinfo = client.get("/oauth2/userinfo",
                          headers={"Authorization": "Bearer " + tokens["access_token"]})
    assert userinfo.status_code == 401
    # the refresh token still works: only the access token was revoked
    assert _refresh(flow, oauth_client, tokens["refresh_token"]).status_code == 200


def test_wrong_hint_is_only_a_hint(flow, client, oauth_client):
    tokens = flow.tokens(oauth_client)
    _revoke(client, oauth_client, tokens["refresh_token"], token_type_hint="access_token")
    assert _refresh(flow, oauth_client, tokens["refresh_token"]).status_code == 400
    assert _revoke(client, oauth_client, "x", token_type_hint="mystery").status_code == 200


def test_unknown_token_is_200(client, oauth_client):
    assert _revoke(client, oauth_client, "never-issued").status_code == 200
    assert _revoke(client, oauth_client, "a.b.c").status_code == 200


def test_missing_token_is_invalid_request(client, oauth_client):
    response = client.post("/oauth2/revoke", data={}, headers=basic_auth(
        oauth_client["client_id"], oauth_client["client_secret"]))
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_request"


def test_client_authentication_is_required(flow, client, oauth_client):
    tokens = flow.tokens(oauth_client)
    response = client.post("/oauth2/revoke", data={"token": tokens["refresh_token"]})
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_client"
    wrong = client.post("/oauth2/revoke", data={"token": tokens["refresh_token"]},
                        headers=basic_auth(oauth_client["client_id"], "wrong"))
    assert wrong.status_code == 401 and wrong.headers["WWW-Authenticate"].startswith("Basic")
    assert _refresh(flow, oauth_client, tokens["refresh_token"]).status_code == 200


def test_another_clients_token_is_refused(flow, client, app, oauth_client):
    tokens = flow.tokens(oauth_client)
    other = add_client(app, name="Other")
    response = _revoke(client, other, tokens["refresh_token"])
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"
    assert _refresh(flow, oauth_client, tokens["refresh_token"]).status_code == 200


def test_public_client_revokes_with_its_client_id(flow, client, public_client):
    tokens = flow.tokens(public_client)
    response = client.post("/oauth2/revoke", data={"token": tokens["refresh_token"],
                                                   "client_id": public_client["client_id"]})
    assert response.status_code == 200
    again = flow.token(public_client, {"grant_type": "refresh_token",
                                       "refresh_token": tokens["refresh_token"]}, method="none")
    assert again.status_code == 400
