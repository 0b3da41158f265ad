"""ID tokens (app/oauth/id_tokens.py): OIDC Core §2 / §3.1.3.6 claims, alg per client."""

from __future__ import annotations

import base64
import hashlib
import time

from tests.oauth.conftest import add_client
from tests.oauth.helpers import verify_jwt


def _half_hash(token: str) -> str:
    digest = hashlib.sha256(token.encode()).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


def test_id_token_claims(flow, client, oauth_client, user):
    req = flow.request(oauth_client)
    tokens = flow.tokens(oauth_client, req)
    header, claims = verify_jwt(client, tokens["id_token"])
    assert header["alg"] == "RS256" and header["kid"]
    assert claims["iss"] == "http://127.0.0.1:5000"
    assert claims["aud"] == oauth_client["client_id"]
    assert claims["sub"] == user["id"]
    assert claims["nonce"] == req.nonce
    assert claims["at_hash"] == _half_hash(tokens["access_token"])
    assert claims["amr"] == ["pwd"]
    assert claims["exp"] - claims["iat"] == 3600
    assert abs(claims["auth_time"] - time.time()) < 60
    assert claims["email"] == "alice@example.com" and claims["email_verified"] is True
    assert claims["name"] == "Alice Example"


def test_no_nonce_claim_without_a_nonce(flow, client, oauth_client):
    req = flow.request(oauth_client)
    tokens = flow.tokens(oauth_client, req, nonce=None)
    assert "nonce" not in verify_jwt(client, tokens["id_token"])[1]


def test_acr_from_the_login(flow, client, oauth_client):
    req = flow.request(oauth_client)
    response = flow.client.get(req.url())
    back = flow.login_at(response, amr="pwd otp", acr="urn:frontdesk:mfa")
    from tests.oauth.helpers import redirect_params

    tokens = flow.token(oauth_client, req.token_form(redirect_params(back)["code"])).get_json()
    claims = verify_jwt(client, tokens["id_token"])[1]
    assert claims["acr"] == "urn:frontdesk:mfa" and claims["amr"] == ["pwd", "otp"]


def test_es256_id_tokens_for_a_client_that_asks(flow, client, app):
    oauth_client = add_client(app, is_first_party=True, id_token_signed_response_alg="ES256")
    tokens = flow.tokens(oauth_client)
    header, claims = verify_jwt(client, tokens["id_token"])
    assert header["alg"] == "ES256"
    assert claims["at_hash"] == _half_hash(tokens["access_token"])  # SHA-256 for ES256 too


def test_unsupported_client_alg_falls_back_to_rs256(flow, client, app):
    oauth_client = add_client(app, is_first_party=True, id_token_signed_response_alg="HS256")
    tokens = flow.tokens(oauth_client)
    assert verify_jwt(client, tokens["id_token"])[0]["alg"] == "RS256"


def test_claims_follow_the_scope(flow, client, oauth_client):
    tokens = flow.tokens(oauth_client, flow.request(oauth_client, scope="openid"))
    claims = verify_jwt(client, tokens["id_token"])[1]
    assert "email" not in claims and "name" not in claims
