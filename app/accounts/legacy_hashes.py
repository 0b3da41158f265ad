"""Password hashes made by other systems, accepted on import and upgraded at the next login.

Formats (scheme name: example):
  argon2                 $argon2id$v=19$m=65536,t=3,p=4$<salt>$<hash>   (also argon2i/argon2d,
                         and Django's "argon2$argon2id$...")
  bcrypt                 $2b$12$...  ($2a$, $2y$; Django's "bcrypt$$2b$...")
  bcrypt_sha256          Django: bcrypt_sha256$$2b$12$...  (bcrypt of the hex SHA-256)
  pbkdf2_sha256          Django: pbkdf2_sha256$<iterations>$<salt>$<base64>
                         passlib: $pbkdf2-sha256$<rounds>$<ab64 salt>$<ab64 digest>
                         Werkzeug: pbkdf2:sha256:<iterations>$<salt>$<hex>
  scrypt                 passlib: $scrypt$ln=<log2 N>,r=<r>,p=<p>$<b64 salt>$<b64 digest>
                         Django: scrypt$<N>$<salt>$<r>$<p>$<base64, 64 bytes>
                         Werkzeug: scrypt:<N>:<r>:<p>$<salt>$<hex, 64 bytes>
check_hash() refuses unknown formats and cost parameters that would let one imported row
tie up the server (a denial of service at every login attempt).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Callable

import bcrypt
from argon2 import PasswordHasher, extract_parameters
from argon2.exceptions import InvalidHashError

from app.accounts.passwords import argon2_verify

MAX_PBKDF2_ITERATIONS = 5_000_000
MAX_BCRYPT_COST = 16
MAX_SCRYPT_N, MAX_SCRYPT_R, MAX_SCRYPT_P = 2**20, 32, 16
MAX_SCRYPT_MEMORY = 256 * 1024 * 1024
MAX_ARGON2_MEMORY_KIB, MAX_ARGON2_TIME, MAX_ARGON2_LANES = 1024 * 1024, 20, 16

BCRYPT_RE = re.compile(r"^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$")


class UnsupportedHash(ValueError):  # noqa: N818 - reads as a condition
    """Not a hash format we verify, or cost parameters beyond our limits."""


def _b64(text: str) -> bytes:
    """Standard, unpadded or passlib's adapted base64 ('.' for '+')."""
    text = text.replace(".", "+")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise UnsupportedHash("bad base64 in the hash") from None


def _int(text: str, low: int, high: int, what: str) -> int:
    if not text.isdigit() or not low <= int(text) <= high:
        raise UnsupportedHash(f"{what} must be between {low} and {high}")
    return int(text)


# --- argon2 ---------------------------------------------------------------------------------

def _argon2(hash_: str) -> str:
    return hash_.removeprefix("argon2") if hash_.startswith("argon2$argon2") else hash_


def _check_argon2(hash_: str) -> None:
    try:
        params = extract_parameters(_argon2(hash_))
    except (InvalidHashError, ValueError):
        raise UnsupportedHash("malformed argon2 hash") from None
    if params.memory_cost > MAX_ARGON2_MEMORY_KIB or params.time_cost > MAX_ARGON2_TIME \
            or params.parallelism > MAX_ARGON2_LANES:
        raise UnsupportedHash("argon2 cost parameters beyond the import limits")


def _verify_argon2(hash_: str, password: str) -> bool:
    return argon2_verify(_argon2(hash_), password)


def is_current_argon2(hash_: str, hasher: PasswordHasher) -> bool:
    """argon2id with exactly our parameters (no upgrade needed)."""
    try:
        return hash_.startswith("$argon2id$") and not hasher.check_needs_rehash(hash_)
    except (InvalidHashError, ValueError):
        return False


# --- bcrypt ---------------------------------------------------------------------------------


def _check_bcrypt(hash_: str) -> None:
    match = BCRYPT_RE.match(hash_.removeprefix("bcrypt_sha256$").removeprefix("bcrypt$"))
    if not match:
        raise UnsupportedHash("malformed bcrypt hash")
    _int(match.group(1), 4, MAX_BCRYPT_COST, "bcrypt cost")


def _verify_bcrypt(hash_: str, password: str) -> bool:
    secret = password.encode()
    if hash_.startswith("bcrypt_sha256$"):
        secret = hashlib.sha256(secret).hexdigest().encode()
    core = hash_.removeprefix("bcrypt_sha256$").removeprefix("bcrypt$")
    try:  # the legacy system truncated at 72 bytes; bcrypt 5 refuses instead
        return bcrypt.checkpw(secret[:72], core.encode())
    except ValueError:
        return False


# --- pbkdf2_sha256 --------------------------------------------------------------------------


def _parse_pbkdf2(hash_: str) -> tuple[int, bytes, bytes]:
    """(iterations, salt, digest) of the three pbkdf2-sha256 formats."""
    if hash_.startswith("pbkdf2_sha256$"):
        parts = hash_.split("$")
        if len(parts) != 4 or not parts[2]:
            raise UnsupportedHash("malformed Django pbkdf2_sha256 hash")
        return (_int(parts[1], 1, MAX_PBKDF2_ITERATIONS, "iterations"), parts[2].encode(),
                _b64(parts[3]))
    if hash_.startswith("$pbkdf2-sha256$"):
        parts = hash_.split("$")
        if len(parts) != 5:
            raise UnsupportedHash("malformed passlib pbkdf2-sha256 hash")
        return (_int(parts[2], 1, MAX_PBKDF2_ITERATIONS, "rounds"), _b64(parts[3]),
                _b64(parts[4]))
    method, _, rest = hash_.partition("$")
    salt, _, digest = rest.partition("$")
    params = method.split(":")
    if len(params) != 3 or params[1] != "sha256" or not salt or not digest:
        raise UnsupportedHash("malformed Werkzeug pbkdf2 hash")
    try:
        raw = bytes.fromhex(digest)
    except ValueError:
        raise UnsupportedHash("bad hex in the hash") from None
    return _int(params[2], 1, MAX_PBKDF2_ITERATIONS, "iterations"), salt.encode(), raw


def _verify_pbkdf2(hash_: str, password: str) -> bool:
    iterations, salt, digest = _parse_pbkdf2(hash_)
    derived = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations, len(digest))
    return hmac.compare_digest(derived, digest)


# --- scrypt ---------------------------------------------------------------------------------


def _scrypt_limits(n: int, r: int, p: int) -> None:
    if n < 2 or n & (n - 1) or n > MAX_SCRYPT_N or not 1 <= r <= MAX_SCRYPT_R \
            or not 1 <= p <= MAX_SCRYPT_P or 128 * r * (n + p) > MAX_SCRYPT_MEMORY:
        raise UnsupportedHash("scrypt parameters beyond the import limits")


def _parse_passlib_scrypt(hash_: str) -> tuple[int, int, int, bytes, bytes]:
    parts = hash_.split("$")
    if len(parts) != 5:
        raise UnsupportedHash("malformed passlib scrypt hash")
    params = dict(item.partition("=")[::2] for item in parts[2].split(","))
    if set(params) != {"ln", "r", "p"}:
        raise UnsupportedHash("malformed passlib scrypt parameters")
    n = 2 ** _int(params["ln"], 1, 20, "ln")
    return (n, _int(params["r"], 1, MAX_SCRYPT_R, "r"), _int(params["p"], 1, MAX_SCRYPT_P, "p"),
            _b64(parts[3]), _b64(parts[4]))


def _parse_scrypt(hash_: str) -> tuple[int, int, int, bytes, bytes]:
    """(n, r, p, salt, digest) of the three scrypt formats."""
    if hash_.startswith("$scrypt$"):
        return _parse_passlib_scrypt(hash_)
    if hash_.startswith("scrypt$"):
        parts = hash_.split("$")
        if len(parts) != 6 or not parts[2]:
            raise UnsupportedHash("malformed Django scrypt hash")
        n, salt, r, p, digest = parts[1:]
        return (_int(n, 2, MAX_SCRYPT_N, "N"), _int(r, 1, MAX_SCRYPT_R, "r"),
                _int(p, 1, MAX_SCRYPT_P, "p"), salt.encode(), _b64(digest))
    method, _, rest = hash_.partition("$")
    salt, _, digest = rest.partition("$")
    params = method.split(":")
    if len(params) != 4 or not salt or not digest:
        raise UnsupportedHash("malformed Werkzeug scrypt hash")
    try:
        raw = bytes.fromhex(digest)
    except ValueError:
        raise UnsupportedHash("bad hex in the hash") from None
    return (_int(params[1], 2, MAX_SCRYPT_N, "N"), _int(params[2], 1, MAX_SCRYPT_R, "r"),
            _int(params[3], 1, MAX_SCRYPT_P, "p"), salt.encode(), raw)


def _check_scrypt(hash_: str) -> None:
    n, r, p, _salt, digest = _parse_scrypt(hash_)
    _scrypt_limits(n, r, p)
    if not 16 <= len(digest) <= 128:
        raise UnsupportedHash("scrypt digest length out of range")


def _verify_scrypt(hash_: str, password: str) -> bool:
    n, r, p, salt, digest = _parse_scrypt(hash_)
    _scrypt_limits(n, r, p)
    derived = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=len(digest),
                             maxmem=MAX_SCRYPT_MEMORY + 1024 * 1024)
    return hmac.compare_digest(derived, digest)


# --- dispatch -------------------------------------------------------------------------------

SCHEMES: dict[str, tuple[Callable[[str], None], Callable[[str, str], bool]]] = {
    "argon2": (_check_argon2, _verify_argon2),
    "bcrypt": (_check_bcrypt, _verify_bcrypt),
    "pbkdf2_sha256": (lambda h: _parse_pbkdf2(h) and None, _verify_pbkdf2),
    "scrypt": (_check_scrypt, _verify_scrypt),
}
PREFIXES = (
    ("$argon2", "argon2"), ("argon2$argon2", "argon2"),
    ("$2a$", "bcrypt"), ("$2b$", "bcrypt"), ("$2y$", "bcrypt"), ("bcrypt$", "bcrypt"),
    ("bcrypt_sha256$", "bcrypt"),
    ("pbkdf2_sha256$", "pbkdf2_sha256"), ("$pbkdf2-sha256$", "pbkdf2_sha256"),
    ("pbkdf2:sha256:", "pbkdf2_sha256"),
    ("$scrypt$", "scrypt"), ("scrypt$", "scrypt"), ("scrypt:", "scrypt"),
)


def identify_hash(hash_: str) -> str:
    for prefix, scheme in PREFIXES:
        if hash_.startswith(prefix):
            return scheme
    raise UnsupportedHash("unsupported password hash format (argon2, bcrypt, pbkdf2_sha256 "
                          "and scrypt are accepted)")


def check_hash(hash_: object) -> str:
    """The scheme of a hash we can verify within our cost limits; else UnsupportedHash."""
    if not isinstance(hash_, str) or not hash_ or len(hash_) > 1024 or not hash_.isascii():
        raise UnsupportedHash("a password hash is a non-empty ASCII string")
    scheme = identify_hash(hash_)
    SCHEMES[scheme][0](hash_)
    return scheme


def verify_legacy_hash(hash_: str, password: str) -> bool:
    """Verify against any accepted format; malformed hashes simply do not match."""
    try:
        scheme = check_hash(hash_)
        return SCHEMES[scheme][1](hash_, password)
    except (UnsupportedHash, ValueError, MemoryError):
        return False


__all__ = ["UnsupportedHash", "check_hash", "identify_hash", "is_current_argon2",
           "verify_legacy_hash"]
