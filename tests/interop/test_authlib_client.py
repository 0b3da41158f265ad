"""Authlib's OAuth 2.0 client (requests integration) against a live server."""

from __future__ import annotations

import secrets

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.interop.conftest import EMAIL, PASSWORD, REDIRECT_URI
from tests.interop.login import sign_in_and_authorize

pytestmark = pytest.mark.interop


def test_authlib_code_pkce_refresh_userinfo(live):
    metadata = requests.get(live.url + "/.well-known/openid-configuration", timeout=5).json()
    session = OAuth2Session(live.extra["client_id"], live.extra["client_secret"],
                            scope="openid profile email", redirect_uri=REDIRECT_URI,
                            code_challenge_method="S256")
    verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(12)
    url, state = session.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce)
    callback = sign_in_and_authorize(requests.Session(), url, EMAIL, PASSWORD, REDIRECT_URI)
    token = session.fetch_token(metadata["token_endpoint"], authorization_response=callback,
                                code_verifier=verifier)
    keys = KeySet.import_key_set(requests.get(metadata["jwks_uri"], timeout=5).json())
    claims = jwt.decode(token["id_token"], keys).claims
    assert claims["iss"] == live.url and claims["nonce"] == nonce
    assert claims["aud"] == live.extra["client_id"]

    userinfo = session.get(metadata["userinfo_endpoint"]).json()
    assert userinfo["sub"] == claims["sub"] and userinfo["email"] == EMAIL

    old_refresh = token["refresh_token"]
    refreshed = session.refresh_token(metadata["token_endpoint"])
    assert refreshed["refresh_token"] != old_refresh
    assert session.get(metadata["userinfo_endpoint"]).json()["sub"] == claims["sub"]
