"""The token endpoint's grants (app/oauth/grants.py): authorization_code with PKCE and
single-use codes, client_credentials, client authentication errors."""

from __future__ import annotations

import time

import pytest

from app.extensions import CLIENT_AUTHENTICATION_FAILED
from tests.oauth.conftest import Flow, add_client, add_user
from tests.oauth.helpers import basic_auth, verify_jwt


def test_code_exchange_returns_tokens_without_caching(flow, client, oauth_client):
    req = flow.request(oauth_client)
    response = flow.token(oauth_client, req.token_form(flow.code(req)))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"
    body = response.get_json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert body["scope"] == "openid profile email"
    assert {"access_token", "id_token", "refresh_token"} <= set(body)


def test_access_token_is_an_rfc9068_jwt(flow, client, oauth_client, user):
    tokens = flow.tokens(oauth_client)
    header, claims = verify_jwt(client, tokens["access_token"], typ="at+jwt")
    assert header["alg"] == "RS256"
    assert claims["iss"] == "http://127.0.0.1:5000"
    assert claims["sub"] == user["id"] and claims["sub"] != user["email"]
    assert claims["aud"] == claims["client_id"] == oauth_client["client_id"]
    assert claims["scope"] == "openid profile email"
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["jti"] and claims["auth_time"] <= claims["iat"]


@pytest.mark.parametrize("method", ["basic", "post"])
def test_both_secret_methods_work_as_registered(flow, app, method):
    registered = {"basic": "client_secret_basic", "post": "client_secret_post"}[method]
    oauth_client = add_client(app, auth_method=registered, is_first_party=True)
    assert flow.tokens(oauth_client, method=method)["access_token"]


def test_wrong_secret_with_basic_is_401_with_challenge(flow, client, oauth_client):
    req = flow.request(oauth_client)
    response = flow.token(dict(oauth_client, client_secret="wrong"),
                          req.token_form(flow.code(req)))
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic ")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.get_json()["error_description"] == CLIENT_AUTHENTICATION_FAILED


def test_wrong_secret_with_post_is_400_without_challenge(flow, app):
    oauth_client = add_client(app, auth_method="client_secret_post", is_first_party=True)
    req = flow.request(oauth_client)
    response = flow.token(dict(oauth_client, client_secret="wrong"),
                          req.token_form(flow.code(req)), method="post")
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_client"
    assert "WWW-Authenticate" not in response.headers


def test_client_must_use_its_registered_method(flow, app):
    oauth_client = add_client(app, auth_method="client_secret_post", is_first_party=True)
    req = flow.request(oauth_client)
    response = flow.token(oauth_client, req.token_form(flow.code(req)), method="basic")
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"
    # Not Authlib's "cannot authenticate with methods: [every method of the server]".
    assert response.get_json()["error_description"] == CLIENT_AUTHENTICATION_FAILED


def test_confidential_client_cannot_skip_authentication(flow, oauth_client):
    req = flow.request(oauth_client)
    response = flow.token(oauth_client, req.token_form(flow.code(req)), method="none")
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_client"


def test_unknown_client_is_invalid_client(client):
    response = client.post("/oauth2/token", data={"grant_type": "client_credentials"},
                           headers=basic_auth("nobody", "secret"))
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"


def test_replayed_code_is_refused_and_revokes_what_it_issued(flow, client, oauth_client):
    req = flow.request(oauth_client)
    code = flow.code(req)
    first = flow.token(oauth_client, req.token_form(code)).get_json()
    replay = flow.token(oauth_client, req.token_form(code))
    assert replay.status_code == 400 and replay.get_json()["error"] == "invalid_grant"
    userinfo = client.get("/oauth2/userinfo",
                          headers={"Authorization": "Bearer " + first["access_token"]})
    assert userinfo.status_code == 401
    refreshed = flow.token(oauth_client, {"grant_type": "refresh_token",
                                          "refresh_token": first["refresh_token"]})
    assert refreshed.status_code == 400 and refreshed.get_json()["error"] == "invalid_grant"


def test_replay_also_revokes_rotated_descendants(flow, client, oauth_client):
    req = flow.request(oauth_client)
    code = flow.code(req)
    first = flow.token(oauth_client, req.token_form(code)).get_json()
    second = flow.token(oauth_client, {"grant_type": "refresh_token",
                                       "refresh_token": first["refresh_token"]}).get_json()
    assert flow.token(oauth_client, req.token_form(code)).status_code == 400
    again = flow.token(oauth_client, {"grant_type": "refresh_token",
                                      "refresh_token": second["refresh_token"]})
    assert again.status_code == 400
    userinfo = client.get("/oauth2/userinfo",
                          headers={"Authorization": "Bearer " + second["access_token"]})
    assert userinfo.status_code == 401  # the refreshed access token too


def test_unknown_code_is_invalid_grant(flow, oauth_client):
    req = flow.request(oauth_client)
    response = flow.token(oauth_client, req.token_form("made-up-code"))
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"


def test_missing_code_is_invalid_request(flow, oauth_client):
    req = flow.request(oauth_client)
    response = flow.token(oauth_client, req.token_form(None))
    assert response.get_json()["error"] == "invalid_request"


def test_expired_code_is_invalid_grant(app_with):
    app = app_with(code_seconds=1)
    flow = Flow(app, app.test_client(), add_user(app))
    oauth_client = add_client(app, is_first_party=True)
    req = flow.request(oauth_client)
    code = flow.code(req)
    time.sleep(1.2)
    response = flow.token(oauth_client, req.token_form(code))
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"


def test_redirect_uri_must_match(flow, app):
    oauth_client = add_client(app, is_first_party=True, redirect_uris=[
        "http://127.0.0.1:9999/cb", "http://127.0.0.1:9999/other"])
    req = flow.request(oauth_client)
    code = flow.code(req)
    response = flow.token(oauth_client, req.token_form(code,
                                                       redirect_uri="http://127.0.0.1:9999/other"))
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"
    missing = flow.token(oauth_client, req.token_form(flow.code(req), redirect_uri=None))
    assert missing.get_json()["error"] == "invalid_grant"


def test_code_is_bound_to_its_client(flow, app, oauth_client):
    other = add_client(app, is_first_party=True)
    req = flow.request(oauth_client)
    code = flow.code(req)
    response = flow.token(other, req.token_form(code))
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"


# --- PKCE ----------------------------------------------------------------------------------


def test_wrong_code_verifier_is_invalid_grant(flow, oauth_client):
    req = flow.request(oauth_client)
    response = flow.token(oauth_client, req.token_form(flow.code(req),
                                                       code_verifier="x" * 50))
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"


def test_missing_code_verifier_is_invalid_request(flow, oauth_client):
    req = flow.request(oauth_client)
    response = flow.token(oauth_client, req.token_form(flow.code(req), code_verifier=None))
    assert response.get_json()["error"] == "invalid_request"


def test_verifier_without_challenge_is_refused(flow, oauth_client):
    req = flow.request(oauth_client, pkce=False)
    response = flow.token(oauth_client, req.token_form(flow.code(req),
                                                       code_verifier="y" * 50))
    assert response.get_json()["error"] == "invalid_request"


def test_public_client_code_exchange(flow, public_client):
    tokens = flow.tokens(public_client)
    assert tokens["access_token"] and tokens["refresh_token"]


def test_public_client_needs_the_verifier_at_the_token_endpoint(flow, public_client):
    req = flow.request(public_client)
    response = flow.token(public_client, req.token_form(flow.code(req), code_verifier=None),
                          method="none")
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_request"


def test_plain_pkce_is_not_accepted(client, public_client):
    from tests.oauth.helpers import AuthorizationRequest, assert_redirect_error

    req = AuthorizationRequest(public_client["client_id"], public_client["redirect_uri"])
    response = client.get(req.url(code_challenge=req.code_verifier,
                                  code_challenge_method="plain"))
    assert_redirect_error(response, req, "invalid_request")


# --- lifetimes and refresh issuance --------------------------------------------------------


def test_per_client_access_token_lifetime(flow, app):
    oauth_client = add_client(app, is_first_party=True, access_token_seconds=600)
    tokens = flow.tokens(oauth_client)
    assert tokens["expires_in"] == 600


def test_out_of_range_lifetime_falls_back_to_the_default(flow, app):
    oauth_client = add_client(app, is_first_party=True, access_token_seconds=60)
    assert flow.tokens(oauth_client)["expires_in"] == 3600


def test_no_refresh_token_without_the_grant(flow, app):
    oauth_client = add_client(app, is_first_party=True, grant_types=["authorization_code"])
    tokens = flow.tokens(oauth_client, flow.request(oauth_client,
                                                    scope="openid offline_access"))
    assert "refresh_token" not in tokens and tokens["scope"] == "openid offline_access"


# --- client_credentials --------------------------------------------------------------------


def test_client_credentials_issues_an_access_token_only(client, app, oauth_client):
    machine = add_client(app, name="Reporter", grant_types=["client_credentials"],
                         redirect_uris=[], scopes=["reports:read", "openid", "email"])
    response = client.post("/oauth2/token", data={"grant_type": "client_credentials"},
                           headers=basic_auth(machine["client_id"], machine["client_secret"]))
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["scope"] == "reports:read"
    _, claims = verify_jwt(client, body["access_token"], typ="at+jwt")
    assert claims["sub"] == machine["client_id"] and "auth_time" not in claims


def test_client_credentials_scope_is_limited_to_the_client(client, app):
    machine = add_client(app, name="Reporter", grant_types=["client_credentials"],
                         redirect_uris=[], scopes=["reports:read", "reports:write"])
    response = client.post("/oauth2/token", data={"grant_type": "client_credentials",
                                                  "scope": "reports:read admin"},
                           headers=basic_auth(machine["client_id"], machine["client_secret"]))
    assert response.get_json()["scope"] == "reports:read"


@pytest.mark.parametrize("scope", ["profile", "openid email", "admin", "admin profile"])
def test_client_credentials_refuses_a_scope_it_cannot_grant(client, app, scope):
    """Not a 200 with "scope": "" — person scopes need a user, "admin" is not the client's."""
    machine = add_client(app, name="Reporter", grant_types=["client_credentials"],
                         redirect_uris=[], scopes=["reports:read", "openid", "profile", "email"])
    response = client.post("/oauth2/token", data={"grant_type": "client_credentials",
                                                  "scope": scope},
                           headers=basic_auth(machine["client_id"], machine["client_secret"]))
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_scope"
    assert "without a user" in response.get_json()["error_description"]


def test_client_credentials_needs_the_grant(client, oauth_client, app):
    web = add_client(app, grant_types=["authorization_code"])
    response = client.post("/oauth2/token", data={"grant_type": "client_credentials"},
                           headers=basic_auth(web["client_id"], web["client_secret"]))
    assert response.status_code == 400
    assert response.get_json()["error"] == "unauthorized_client"


def test_public_client_cannot_use_client_credentials(client, public_client):
    response = client.post("/oauth2/token", data={"grant_type": "client_credentials",
                                                  "client_id": public_client["client_id"]})
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_client"


@pytest.mark.parametrize("grant_type", ["password", "implicit",
                                        "urn:ietf:params:oauth:grant-type:jwt-bearer", ""])
def test_unsupported_grant_types(client, oauth_client, grant_type):
    response = client.post("/oauth2/token", data={"grant_type": grant_type},
                           headers=basic_auth(oauth_client["client_id"],
                                              oauth_client["client_secret"]))
    assert response.status_code == 400
    assert response.get_json()["error"] == "unsupported_grant_type"


def test_token_endpoint_only_takes_post(client):
    response = client.get("/oauth2/token")
    assert response.status_code == 405
