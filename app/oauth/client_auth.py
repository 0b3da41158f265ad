"""Client authentication by `private_key_jwt` (OIDC Core §9, RFC 7523 §2.2, §3).

The client signs an assertion with a key from its registered JWKS (inline `jwks`, or a
`jwks_uri` we fetch and keep in the store for a minute). Each assertion is single use: its
`jti` is recorded with `store.add` until the assertion expires. Assertions valid for more
than MAX_LIFETIME_SECONDS are refused, so that record stays short.

client_secret_basic, client_secret_post and none are Authlib's; Client.check_client_secret
compares SHA-256 digests in constant time.
"""

from __future__ import annotations

import hashlib
import json
import time

import requests
from authlib.oauth2.rfc6749 import InvalidClientError
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from flask import request as flask_request
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from app.extensions import frontdesk_state
from app.models import Client

ASSERTION_ALGS = ("RS256", "PS256", "ES256")
MAX_LIFETIME_SECONDS = 3600
JWKS_CACHE_SECONDS = 60
JWKS_MAX_BYTES = 256 * 1024


class PrivateKeyJWT(JWTBearerClientAssertion):
    CLIENT_AUTH_METHOD = "private_key_jwt"

    def __init__(self) -> None:
        super().__init__(validate_jti=True, leeway=60)

    def get_audiences(self) -> list[str]:
        """The issuer, the token endpoint, or the endpoint being called (RFC 7523 §3,
        OIDC Core §9)."""
        issuer = frontdesk_state().settings.issuer
        return [issuer, issuer + "/oauth2/token", issuer + flask_request.path]

    def process_assertion_claims(self, assertion, resolve_key):
        try:
            token = jwt.decode(assertion, resolve_key, algorithms=list(ASSERTION_ALGS))
        except (JoseError, ValueError) as exc:
            raise InvalidClientError(description="The client assertion does not verify.") \
                from exc
        self.verify_claims(token.claims)
        return token.claims

    def validate_jti(self, claims, jti) -> bool:
        if not isinstance(jti, str) or not jti or len(jti) > 256:
            return False
        exp = claims.get("exp")
        remaining = int(exp - time.time()) if isinstance(exp, int | float) else 0
        if remaining > MAX_LIFETIME_SECONDS:
            raise InvalidClientError(description="The client assertion lives too long.")
        digest = hashlib.sha256(f"{claims['sub']}\0{jti}".encode()).hexdigest()
        return frontdesk_state().store.add(f"client_jti:{digest}", "1",
                                           max(1, remaining + self.leeway))

    def resolve_client_public_key(self, client: Client) -> KeySet:
        data = client.jwks or (fetch_client_jwks(client.jwks_uri) if client.jwks_uri else None)
        try:
            return KeySet.import_key_set(data or {"keys": []})
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise InvalidClientError(description="The client's keys cannot be read.") from exc


def fetch_client_jwks(uri: str) -> dict:
    """The client's JWKS document, from the store when fetched in the last minute."""
    store = frontdesk_state().store
    key = "client_jwks:" + hashlib.sha256(uri.encode()).hexdigest()
    cached = store.get_json(key)
    if cached is not None:
        return cached
    try:
        response = requests.get(uri, timeout=3, allow_redirects=False,
                                headers={"Accept": "application/json"})
        response.raise_for_status()
        if len(response.content) > JWKS_MAX_BYTES:
            raise ValueError("JWKS too large")
        data = json.loads(response.content)
    except (requests.RequestException, ValueError) as exc:
        raise InvalidClientError(description="The client's jwks_uri cannot be read.") from exc
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise InvalidClientError(description="The client's jwks_uri is not a JWKS.")
    store.set_json(key, data, JWKS_CACHE_SECONDS)
    return data
