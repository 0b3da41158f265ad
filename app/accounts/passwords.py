"""Password hashing with argon2id; parameters come from Settings and never go below OWASP's.

Hashing and verification run on libsodium (PyNaCl) wherever it can: its argon2id picks AVX2 or
AVX-512 code at run time and costs about half the CPU of argon2-cffi's portable build for the
same parameters (on the development machine, 12 ms against 26 ms at the OWASP minimum, page
faults of its fresh 19 MiB included; bench/README.md). Both write and read the same PHC string,
so each verifies the other's hashes and nothing stored changes. argon2-cffi stays for what
libsodium does not do: hashing with more than one lane, argon2i/argon2d and version-16 strings,
and reading parameters (needs_rehash).
"""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from nacl.exceptions import InvalidkeyError
from nacl.pwhash import argon2id as sodium_argon2id

from app.config import Settings

_SODIUM_PREFIX = "$argon2id$v=19$"
_SODIUM_MAX_ENCODED = sodium_argon2id.PWHASH_SIZE - 1  # PyNaCl refuses longer strings
_ANY_PARAMETERS = PasswordHasher()  # verify() reads the parameters from the string


@lru_cache(maxsize=8)
def _hasher(memory_kib: int, time_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib,
                          parallelism=parallelism, type=Type.ID)


def password_hasher(settings: Settings) -> PasswordHasher:
    """argon2-cffi's hasher at our parameters: for reading parameters, not for hashing."""
    return _hasher(settings.argon2_memory_kib, settings.argon2_time_cost,
                   settings.argon2_parallelism)


def argon2id_hash(password: str, memory_kib: int, time_cost: int, parallelism: int) -> str:
    if parallelism == 1:  # libsodium always hashes with one lane
        return sodium_argon2id.str(password.encode(), opslimit=time_cost,
                                   memlimit=memory_kib * 1024).decode("ascii")
    return _hasher(memory_kib, time_cost, parallelism).hash(password)


def argon2_verify(encoded: str, password: str) -> bool:
    """Any argon2 PHC string (its own parameters); False for a mismatch or an unreadable hash."""
    if encoded.startswith(_SODIUM_PREFIX) and len(encoded) <= _SODIUM_MAX_ENCODED:
        try:
            return sodium_argon2id.verify(encoded.encode("ascii"), password.encode())
        except (InvalidkeyError, ValueError):  # a mismatch or a malformed / non-ASCII string
            return False
    try:
        return _ANY_PARAMETERS.verify(encoded, password)
    except (VerificationError, InvalidHashError, ValueError):  # ValueError: not ASCII
        return False


def hash_password(settings: Settings, password: str) -> str:
    return argon2id_hash(password, settings.argon2_memory_kib, settings.argon2_time_cost,
                         settings.argon2_parallelism)


def verify_password(settings: Settings, password_hash: str | None, password: str) -> bool:
    """Check a password; with no hash, burn the same time against a dummy hash."""
    if not password_hash:
        argon2_verify(_dummy_hash(settings.argon2_memory_kib, settings.argon2_time_cost,
                                  settings.argon2_parallelism), password)
        return False
    return argon2_verify(password_hash, password)


def needs_rehash(settings: Settings, password_hash: str) -> bool:
    try:
        return password_hasher(settings).check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@lru_cache(maxsize=8)
def _dummy_hash(memory_kib: int, time_cost: int, parallelism: int) -> str:
    return argon2id_hash("frontdesk-dummy-password", memory_kib, time_cost, parallelism)
