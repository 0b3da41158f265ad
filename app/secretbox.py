"""Encryption at rest for private keys and TOTP secrets, keyed from the secret key.

AES-256-GCM with a key derived by HKDF per purpose, so a TOTP secret cannot be
decrypted as a signing key and vice versa.
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = "v1"
NONCE_BYTES = 12  # 96-bit random nonce per message (NIST SP 800-38D)
TAG_BYTES = 16


class SecretBoxError(ValueError):
    """A sealed value could not be opened (wrong secret key or tampered data)."""


def _derive(secret_key: str, purpose: str) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"frontdesk-secretbox",
               info=purpose.encode()).derive(secret_key.encode())
    return AESGCM(key)


def seal(secret_key: str, purpose: str, plaintext: str) -> str:
    """Encrypt and authenticate `plaintext` for one purpose: "v1.<base64url(nonce|box)>"."""
    nonce = os.urandom(NONCE_BYTES)
    box = _derive(secret_key, purpose).encrypt(nonce, plaintext.encode(), purpose.encode())
    return VERSION + "." + base64.urlsafe_b64encode(nonce + box).decode()


def unseal(secret_key: str, purpose: str, sealed: str) -> str:
    """Open a sealed value; SecretBoxError if the key, purpose or bytes are wrong."""
    version, _, body = (sealed or "").partition(".")
    if version != VERSION:
        raise SecretBoxError("unknown sealed format")
    try:
        raw = base64.urlsafe_b64decode(body.encode())
    except (binascii.Error, ValueError):
        raise SecretBoxError("sealed value is not base64") from None
    if len(raw) < NONCE_BYTES + TAG_BYTES:
        raise SecretBoxError("sealed value is truncated")
    try:
        plain = _derive(secret_key, purpose).decrypt(
            raw[:NONCE_BYTES], raw[NONCE_BYTES:], purpose.encode())
    except InvalidTag:
        raise SecretBoxError("cannot open sealed value") from None
    return plain.decode()
