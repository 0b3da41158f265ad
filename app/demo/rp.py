"""The demo's relying-party side: what any OIDC client library does, in a few functions.

Every call goes over HTTP to the issuer URL (discovery, JWKS, token, userinfo), exactly as
an application would. That needs a server that can answer a request while it serves
another: the development server (`frontdesk run`) is threaded; under gunicorn use more than
one worker or thread, or the demo's own token request waits for itself.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from typing import Any
from urllib.parse import urlencode

import requests
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from app.config import Settings
from app.demo import DEMO_CLIENT_ID, demo_client_secret, demo_post_logout_uri, demo_redirect_uri

SCOPE = "openid profile email phone address offline_access"
TIMEOUT_SECONDS = 10


class DemoError(Exception):
    """Something the demo page shows instead of the tokens."""


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def start_request(settings: Settings) -> tuple[str, dict[str, str]]:
    """(authorization URL, pending values to keep in the session): state, nonce, PKCE."""
    pending = {"state": secrets.token_urlsafe(16), "nonce": secrets.token_urlsafe(16),
               "verifier": secrets.token_urlsafe(48)}
    query = urlencode({
        "response_type": "code", "client_id": DEMO_CLIENT_ID,
        "redirect_uri": demo_redirect_uri(settings), "scope": SCOPE,
        "state": pending["state"], "nonce": pending["nonce"],
        "code_challenge": _s256(pending["verifier"]), "code_challenge_method": "S256"})
    return f"{settings.issuer}/oauth2/authorize?{query}", pending


def _post_token(settings: Settings, form: dict[str, str]) -> dict[str, Any]:
    try:
        response = requests.post(f"{settings.issuer}/oauth2/token", data=form,
                                 auth=(DEMO_CLIENT_ID, demo_client_secret(settings)),
                                 timeout=TIMEOUT_SECONDS)
    except requests.RequestException as exc:
        raise DemoError(f"The token endpoint did not answer ({exc.__class__.__name__}).") \
            from None
    body = _json(response)
    if response.status_code != 200:
        raise DemoError(f"Token endpoint: {body.get('error')}: {body.get('error_description')}")
    return body


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {"error": f"HTTP {response.status_code}"}
    return body if isinstance(body, dict) else {}


def exchange_code(settings: Settings, code: str, pending: dict[str, str]) -> dict[str, Any]:
    """Code -> tokens (RFC 6749 §4.1.3 with the PKCE verifier), then check the ID token."""
    tokens = _post_token(settings, {
        "grant_type": "authorization_code", "code": code,
        "redirect_uri": demo_redirect_uri(settings), "code_verifier": pending["verifier"]})
    check_id_token(settings, tokens.get("id_token", ""), pending["nonce"])
    return tokens


def refresh(settings: Settings, refresh_token: str) -> dict[str, Any]:
    return _post_token(settings, {"grant_type": "refresh_token",
                                  "refresh_token": refresh_token})


def fetch_jwks(settings: Settings) -> KeySet:
    try:
        response = requests.get(f"{settings.issuer}/.well-known/jwks.json",
                                timeout=TIMEOUT_SECONDS)
        return KeySet.import_key_set(response.json())
    except (requests.RequestException, ValueError, JoseError) as exc:
        raise DemoError(f"Cannot read the JWKS ({exc.__class__.__name__}).") from None


def decode(settings: Settings, token: str) -> tuple[dict, dict]:
    """(header, claims) of a token verified against the issuer's JWKS."""
    try:
        decoded = jwt.decode(token, fetch_jwks(settings), algorithms=["RS256", "ES256"])
    except (JoseError, ValueError) as exc:
        raise DemoError(f"A token does not verify ({exc.__class__.__name__}).") from None
    return dict(decoded.header), dict(decoded.claims)


def check_id_token(settings: Settings, id_token: str, nonce: str | None) -> dict[str, Any]:
    """OIDC Core §3.1.3.7: signature, iss, aud, exp, nonce."""
    _, claims = decode(settings, id_token)
    if claims.get("iss") != settings.issuer or claims.get("aud") != DEMO_CLIENT_ID:
        raise DemoError("The ID token was not issued for the demo by this issuer.")
    if claims.get("exp", 0) < time.time():
        raise DemoError("The ID token has expired.")
    if nonce is not None and claims.get("nonce") != nonce:
        raise DemoError("The ID token's nonce does not match this sign-in.")
    return claims


def fetch_userinfo(settings: Settings, access_token: str) -> dict[str, Any]:
    try:
        response = requests.get(f"{settings.issuer}/oauth2/userinfo", timeout=TIMEOUT_SECONDS,
                                headers={"Authorization": f"Bearer {access_token}"})
    except requests.RequestException as exc:
        raise DemoError(f"The userinfo endpoint did not answer ({exc.__class__.__name__}).") \
            from None
    body = _json(response)
    if response.status_code != 200:
        raise DemoError(f"Userinfo: HTTP {response.status_code} {body.get('error', '')}")
    return body


def logout_url(settings: Settings, id_token: str, state: str) -> str:
    """RP-Initiated Logout: back to /demo/ afterwards."""
    query = urlencode({"id_token_hint": id_token, "state": state,
                       "post_logout_redirect_uri": demo_post_logout_uri(settings)})
    return f"{settings.issuer}/oauth2/logout?{query}"
