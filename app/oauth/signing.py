"""Signing and verifying our own JWTs with the process key ring (RFC 7515, RFC 7519).

Keys are loaded once per process by app.keys.KeyRing; nothing here touches the database.
Only RS256 and ES256 are accepted: a token whose header names `none`, an HMAC algorithm
or a key we did not publish never verifies.

This is the compact serialization written directly over `cryptography` rather than through
joserfc's generic JWS machinery: tokens are signed and checked on every token, userinfo and
introspection call, and the generic path cost several times the signature itself. The
rules are the same: the header's `alg` must be allowed and match the key its `kid` names,
`crit` is refused (RFC 7515 §4.1.11: we understand no extension), the payload must be a
JSON object.

A token whose signature was accepted is remembered (up to VERIFIED_MEMO_SIZE per process)
with the key-ring load that accepted it, so the same access token on its next userinfo or
introspection call skips the RSA check, the header checks and the base64; its header and
payload are parsed afresh each time. Only the signature's verdict is remembered: expiry,
the deny-list, typ, iss and the user are checked by the callers on every call, and the
memo goes with the keys at the ring's next reload (a key withdrawn stops verifying then,
as without the memo).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from app.extensions import frontdesk_state

SIGNING_ALGS = ("RS256", "ES256")
MAX_TOKEN_LENGTH = 8192
_SHA256 = hashes.SHA256()
_PKCS1 = padding.PKCS1v15()
_ECDSA = ec.ECDSA(_SHA256)
_COMPACT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_HEADER_CACHE: dict[tuple[str, str, str], bytes] = {}
VERIFIED_MEMO_SIZE = 2048


def b64url(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def b64url_decode(data: str | bytes) -> bytes:
    if isinstance(data, str):
        data = data.encode("ascii")
    return base64.urlsafe_b64decode(data + b"=" * (-len(data) % 4))


def _json_bytes(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def _encoded_header(alg: str, typ: str, kid: str) -> bytes:
    key = (alg, typ, kid)
    header = _HEADER_CACHE.get(key)
    if header is None:
        if len(_HEADER_CACHE) > 64:  # kids change with rotation: never grow without bound
            _HEADER_CACHE.clear()
        header = _HEADER_CACHE[key] = b64url(_json_bytes({"alg": alg, "typ": typ, "kid": kid}))
    return header


def _sign(private_key, alg: str, signing_input: bytes) -> bytes:
    if alg == "RS256":
        return private_key.sign(signing_input, _PKCS1, _SHA256)
    r, s = decode_dss_signature(private_key.sign(signing_input, _ECDSA))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")  # RFC 7518 §3.4: R || S


def _verify(public_key, alg: str, signing_input: bytes, signature: bytes) -> bool:
    try:
        if alg == "RS256" and isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, signing_input, _PKCS1, _SHA256)
            return True
        if alg == "ES256" and isinstance(public_key, ec.EllipticCurvePublicKey) \
                and len(signature) == 64:
            der = encode_dss_signature(int.from_bytes(signature[:32], "big"),
                                       int.from_bytes(signature[32:], "big"))
            public_key.verify(der, signing_input, _ECDSA)
            return True
    except InvalidSignature:
        return False
    return False


def sign_jwt(claims: dict[str, Any], alg: str = "RS256", typ: str = "JWT") -> str:
    """Sign `claims` with the current key for `alg`; the header names its `kid`."""
    kid, private_key = frontdesk_state().keyring.signer(alg)
    signing_input = _encoded_header(alg, typ, kid) + b"." + b64url(_json_bytes(claims))
    return (signing_input + b"." + b64url(_sign(private_key, alg, signing_input))).decode()


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
    header_json, header, claims_json, claims = verified
    if len(memo) >= VERIFIED_MEMO_SIZE:  # bounded: tokens come from clients
        memo.clear()
    memo[token] = (header_json, claims_json)
    return header, claims


def _verify_compact(keyring, token: str) -> tuple[bytes, dict, bytes, dict] | None:
    """The header and payload (JSON and parsed) of a compact JWS one of the ring's
    published keys signed, with the header rules above; else None."""
    if not _COMPACT.fullmatch(token):
        return None
    encoded_header, encoded_claims, encoded_signature = token.split(".")
    try:
        header_json = b64url_decode(encoded_header)
        header = json.loads(header_json)
        if not isinstance(header, dict) or "crit" in header:
            return None
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in SIGNING_ALGS or not isinstance(kid, str):
            return None
        published = keyring.verifier(kid)
        if published is None or published[0] != alg:
            return None
        signing_input = (encoded_header + "." + encoded_claims).encode("ascii")
        if not _verify(published[1], alg, signing_input, b64url_decode(encoded_signature)):
            return None
        claims_json = b64url_decode(encoded_claims)
        claims = json.loads(claims_json)
    except (ValueError, TypeError, binascii.Error, UnicodeError):
        return None
    return (header_json, header, claims_json, claims) if isinstance(claims, dict) else None


def looks_like_jwt(token: str) -> bool:
    return isinstance(token, str) and token.count(".") == 2
