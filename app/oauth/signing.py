"""Signing and verifying our own JWTs with the process key ring (RFC 7515, RFC 7519).

Keys are loaded once per process by app.keys.KeyRing; nothing here touches the database.
Only asymmetric algorithms are accepted: a token whose header names `none` or an HMAC
algorithm never verifies.
"""

from __future__ import annotations

import binascii
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError

from app.extensions import frontdesk_state

SIGNING_ALGS = ("RS256", "ES256")


def sign_jwt(claims: dict[str, Any], alg: str = "RS256", typ: str = "JWT") -> str:
    """Sign `claims` with the current key for `alg`; the header names its `kid`."""
    key = frontdesk_state().keyring.signing_key(alg)
    header = {"alg": alg, "typ": typ, "kid": key.kid}
    return jwt.encode(header, claims, key, algorithms=[alg])


def decode_jwt(token: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(header, claims) of a token signed by one of our published keys, else None.

    Only the signature is checked here; callers check typ, iss, exp and the rest.
    """
    if not isinstance(token, str) or token.count(".") != 2 or len(token) > 8192:
        return None
    keys = frontdesk_state().keyring.verification_keys()
    try:
        decoded = jwt.decode(token, keys, algorithms=list(SIGNING_ALGS))
    except (JoseError, ValueError, TypeError, binascii.Error):
        return None
    return dict(decoded.header), dict(decoded.claims)


def looks_like_jwt(token: str) -> bool:
    return isinstance(token, str) and token.count(".") == 2
