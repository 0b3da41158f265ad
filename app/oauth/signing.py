"""Signing and verifying our own JWTs with the app's key ring (RFC 7515, RFC 7519), through
joserfc's compact JWS.

The keys are joserfc key objects the ring imports once per load (app.keys.KeyRing); nothing
here touches the database. Only RS256 and ES256 are accepted, and a header may name only
`alg`, `typ` and `kid`: a token whose header names `none`, an HMAC algorithm, a key we did
not publish, a key of another algorithm, or any extension (`crit`, `b64`: RFC 7515
§4.1.11, we understand none) never verifies. The payload must be a JSON object.

A token whose signature was accepted is remembered (up to VERIFIED_MEMO_SIZE per ring load)
with the key-ring load that accepted it, so the same access token on its next userinfo or
introspection call skips the signature check; its header and payload are parsed afresh each
time. Only the signature's verdict is remembered: expiry, the deny-list, typ, iss and the
user are checked by the callers on every call, and the memo goes with the keys at the ring's
next reload (a key withdrawn stops verifying then, as without the memo).
"""

from __future__ import annotations

import binascii
import json
import re
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError

from app.extensions import frontdesk_state

SIGNING_ALGS = ("RS256", "ES256")
HEADER_NAMES = frozenset({"alg", "typ", "kid"})
MAX_TOKEN_LENGTH = 8192
VERIFIED_MEMO_SIZE = 2048
_COMPACT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
#: joserfc's algorithm registry restricted to ours (immutable configuration, not state).
REGISTRY = jws.JWSRegistry(algorithms=list(SIGNING_ALGS))


def _json_bytes(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def sign_jwt(claims: dict[str, Any], alg: str = "RS256", typ: str = "JWT") -> str:
    """Sign `claims` with the current key for `alg`; the header names its `kid`."""
    key = frontdesk_state().keyring.signing_key(alg)
    return jws.serialize_compact({"alg": alg, "typ": typ, "kid": key.kid},
                                 _json_bytes(claims), key, registry=REGISTRY)


def decode_jwt(token: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(header, claims) of a token signed by one of our published keys, else None.

    Only the signature is checked here; callers check typ, iss, exp and the rest.
    """
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        return None
    keyring = frontdesk_state().keyring
    memo = keyring.verified_tokens()
    known = memo.get(token)
    if known is not None:  # parsed afresh: callers may change what they get
        return json.loads(known[0]), json.loads(known[1])
    verified = _verify_compact(keyring, token)
    if verified is None:
        return None
    header, claims_json, claims = verified
    if len(memo) >= VERIFIED_MEMO_SIZE:  # bounded: tokens come from clients
        memo.clear()
    memo[token] = (json.dumps(header).encode(), claims_json)
    return header, claims


def _verify_compact(keyring, token: str) -> tuple[dict[str, Any], bytes, dict] | None:
    """The header, the payload's JSON and the payload of a compact JWS one of the ring's
    published keys signed, with the header rules above; else None."""
    if not _COMPACT.fullmatch(token):
        return None
    try:
        signed = jws.extract_compact(token.encode("ascii"), registry=REGISTRY)
        header = signed.headers()
        if not HEADER_NAMES.issuperset(header) or header.get("alg") not in SIGNING_ALGS:
            return None
        kid = header.get("kid")
        key = keyring.verifier(kid) if isinstance(kid, str) else None
        if key is None or key.alg != header["alg"]:
            return None
        if not jws.validate_compact(signed, key, registry=REGISTRY):
            return None
        claims = json.loads(signed.payload)
    except (JoseError, ValueError, TypeError, binascii.Error, UnicodeError):
        return None
    return (header, signed.payload, claims) if isinstance(claims, dict) else None


def looks_like_jwt(token: str) -> bool:
    return isinstance(token, str) and token.count(".") == 2
