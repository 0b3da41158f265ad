"""The access token signing algorithm setting, FRONTDESK_ACCESS_TOKEN_ALG (app/config.py,
app/oauth/tokens.py): RS256 by default, ES256 on request, anything else refused at start."""

from __future__ import annotations

import time

import pytest
from joserfc import jwt
from joserfc.errors import UnsupportedAlgorithmError
from joserfc.jwk import KeySet

from app import create_app
from app.config import ConfigError, load_settings
from app.oauth.signing import sign_jwt
from tests.conftest import base_config
from tests.oauth.conftest import Flow, add_client, add_user
from tests.oauth.helpers import ISSUER, basic_auth, jwks_of


def _machine(app) -> dict:
    return add_client(app, name="Reporter", grant_types=["client_credentials"],
                      redirect_uris=[], scopes=["reports:read"])


def _client_credentials_token(test_client, machine: dict) -> str:
    response = test_client.post("/oauth2/token", data={"grant_type": "client_credentials"},
                                headers=basic_auth(machine["client_id"],
                                                   machine["client_secret"]))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["access_token"]


def _verify_with_jwks(test_client, token: str, alg: str) -> tuple[dict, dict]:
    """Verify as an independent resource server would: joserfc, the published JWKS, and
    only `alg` allowed. Returns (header, claims); fails the test if it does not verify."""
    jwks = jwks_of(test_client)
    decoded = jwt.decode(token, KeySet.import_key_set(jwks), algorithms=[alg])
    header = dict(decoded.header)
    published = {key["kid"]: key for key in jwks["keys"]}
    assert header["kid"] in published, (header, sorted(published))
    assert published[header["kid"]]["alg"] == alg
    assert header["typ"] == "at+jwt"
    return header, dict(decoded.claims)


def _es256_app(app_with):
    app = app_with(access_token_alg="ES256")
    return app, app.test_client()


def _es256_user_token(app, test_client) -> tuple[dict, dict, str]:
    """(user, client, access token) from a code flow, the token checked to be ES256."""
    user = add_user(app)
    oauth_client = add_client(app, is_first_party=True)
    token = Flow(app, test_client, user).tokens(oauth_client)["access_token"]
    assert _verify_with_jwks(test_client, token, "ES256")[0]["alg"] == "ES256"
    return user, oauth_client, token


def _userinfo(test_client, token: str):
    return test_client.get("/oauth2/userinfo", headers={"Authorization": "Bearer " + token})


def _introspect(test_client, oauth_client: dict, token: str) -> dict:
    response = test_client.post("/oauth2/introspect", data={"token": token},
                                headers=basic_auth(oauth_client["client_id"],
                                                   oauth_client["client_secret"]))
    assert response.status_code == 200
    return response.get_json()


def test_default_is_rs256(app, client, settings):
    assert settings.access_token_alg == "RS256"
    machine = _machine(app)
    token = _client_credentials_token(client, machine)
    header, claims = _verify_with_jwks(client, token, "RS256")
    assert header["alg"] == "RS256" and claims["sub"] == machine["client_id"]
    with pytest.raises(UnsupportedAlgorithmError):  # not an ES256 token
        _verify_with_jwks(client, token, "ES256")


def test_es256_client_credentials_token(app_with):
    app, test_client = _es256_app(app_with)
    machine = _machine(app)
    token = _client_credentials_token(test_client, machine)
    header, claims = _verify_with_jwks(test_client, token, "ES256")
    assert header["alg"] == "ES256"
    assert claims["iss"] == ISSUER and claims["sub"] == machine["client_id"]
    assert claims["scope"] == "reports:read"
    assert _introspect(test_client, machine, token)["active"] is True


def test_es256_authorization_code_and_refresh_tokens(app_with):
    app, test_client = _es256_app(app_with)
    user = add_user(app)
    oauth_client = add_client(app, is_first_party=True,
                              grant_types=["authorization_code", "refresh_token"])
    flow = Flow(app, test_client, user)
    tokens = flow.tokens(oauth_client)
    header, claims = _verify_with_jwks(test_client, tokens["access_token"], "ES256")
    assert header["alg"] == "ES256" and claims["sub"] == user["id"]
    refreshed = flow.token(oauth_client, {"grant_type": "refresh_token",
                                          "refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200
    header, _ = _verify_with_jwks(test_client, refreshed.get_json()["access_token"], "ES256")
    assert header["alg"] == "ES256"


def test_userinfo_and_introspection_accept_es256_tokens(app_with):
    app, test_client = _es256_app(app_with)
    user, oauth_client, token = _es256_user_token(app, test_client)
    response = _userinfo(test_client, token)
    assert response.status_code == 200 and response.get_json()["sub"] == user["id"]
    body = _introspect(test_client, oauth_client, token)
    assert body["active"] is True and body["sub"] == user["id"]
    assert body["client_id"] == oauth_client["client_id"]


def test_revoked_es256_token_is_refused(app_with):
    app, test_client = _es256_app(app_with)
    _, oauth_client, token = _es256_user_token(app, test_client)
    assert _userinfo(test_client, token).status_code == 200  # the control
    revoked = test_client.post("/oauth2/revoke", data={"token": token},
                               headers=basic_auth(oauth_client["client_id"],
                                                  oauth_client["client_secret"]))
    assert revoked.status_code == 200
    response = _userinfo(test_client, token)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert _introspect(test_client, oauth_client, token) == {"active": False}


def test_rs256_tokens_stay_valid_after_switching_to_es256(app_with):
    """Tokens issued before the operator switched keep working until they expire."""
    app, test_client = _es256_app(app_with)
    user = add_user(app)
    oauth_client = add_client(app, is_first_party=True)
    now = int(time.time())
    with app.app_context():
        token = sign_jwt({"iss": ISSUER, "sub": user["id"], "aud": oauth_client["client_id"],
                          "client_id": oauth_client["client_id"], "scope": "openid email",
                          "jti": "issued-before-the-switch", "iat": now, "exp": now + 300},
                         "RS256", "at+jwt")
    assert _userinfo(test_client, token).status_code == 200
    assert _introspect(test_client, oauth_client, token)["active"] is True


@pytest.mark.parametrize("value", ["RS256", "ES256"])
def test_allowed_values_are_read_from_the_environment(tmp_path, monkeypatch, value):
    monkeypatch.chdir(tmp_path)  # no .env of the checkout
    settings = load_settings({"FRONTDESK_ACCESS_TOKEN_ALG": value})
    assert settings.access_token_alg == value


@pytest.mark.parametrize("value", ["HS256", "none", "es256", "RS512", "PS256", "EdDSA", ""])
def test_other_values_are_refused_at_startup(tmp_path, monkeypatch, value):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="FRONTDESK_ACCESS_TOKEN_ALG must be RS256 or ES256"):
        load_settings({"FRONTDESK_ACCESS_TOKEN_ALG": value})
    with pytest.raises(ConfigError, match="FRONTDESK_ACCESS_TOKEN_ALG"):
        create_app(base_config(tmp_path, access_token_alg=value))
