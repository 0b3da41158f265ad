"""Password hashing with argon2id (argon2-cffi); parameters come from Settings and never go
below OWASP's.

Hashes are PHC strings ("$argon2id$v=19$m=...,t=...,p=...$salt$hash", 16-byte salt, 32-byte
hash), so verification reads its parameters from the string: hashes written with older
parameters, other argon2 variants and other lane counts keep verifying, and needs_rehash
tells when to rewrite one at the current parameters.
"""

from __future__ import annotations

import base64

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from app.config import Settings

SALT_BYTES = 16
HASH_BYTES = 32
# A valid hash of no password anyone can type (its digest is all zeros): checking a password
# against it costs one full argon2id computation at the given parameters, and never matches.
_DUMMY_SALT = base64.b64encode(b"frontdesk-dummy!").decode().rstrip("=")
_DUMMY_DIGEST = base64.b64encode(bytes(HASH_BYTES)).decode().rstrip("=")


def argon2id_hasher(memory_kib: int, time_cost: int, parallelism: int) -> PasswordHasher:
    """argon2-cffi's hasher at these parameters (cheap to build: it holds only them)."""
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism,
                          hash_len=HASH_BYTES, salt_len=SALT_BYTES, type=Type.ID)


def password_hasher(settings: Settings) -> PasswordHasher:
    """The hasher at the configured parameters."""
    return argon2id_hasher(settings.argon2_memory_kib, settings.argon2_time_cost,
                           settings.argon2_parallelism)


def argon2id_hash(password: str, memory_kib: int, time_cost: int, parallelism: int) -> str:
    return argon2id_hasher(memory_kib, time_cost, parallelism).hash(password)


def argon2_verify(encoded: str, password: str) -> bool:
    """Any argon2 PHC string (its own parameters); False for a mismatch or an unreadable hash."""
    try:
        return PasswordHasher().verify(encoded, password)
    except (VerificationError, InvalidHashError, ValueError):  # ValueError: not ASCII
        return False


def hash_password(settings: Settings, password: str) -> str:
    return password_hasher(settings).hash(password)


def verify_password(settings: Settings, password_hash: str | None, password: str) -> bool:
    """Check a password; with no hash, burn the same time against a dummy hash."""
    if not password_hash:
        argon2_verify(_dummy_hash(settings), password)
        return False
    return argon2_verify(password_hash, password)


def needs_rehash(settings: Settings, password_hash: str) -> bool:
    try:
        return password_hasher(settings).check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def _dummy_hash(settings: Settings) -> str:
    return (f"$argon2id$v=19$m={settings.argon2_memory_kib},t={settings.argon2_time_cost},"
            f"p={settings.argon2_parallelism}${_DUMMY_SALT}${_DUMMY_DIGEST}")
