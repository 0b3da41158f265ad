"""MFA recovery codes: ten one-time codes, shown once, stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from app.models import User
from app.store import Store

RECOVERY_CODE_COUNT = 10
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: easy to copy by hand
HALF_LENGTH = 5
USED_MARK_SECONDS = 86400


def normalize_recovery_code(code: str) -> str:
    return "".join(ch for ch in (code or "").lower() if ch.isalnum())[:64]


def hash_recovery_code(code: str) -> str:
    return hashlib.sha256(normalize_recovery_code(code).encode()).hexdigest()


def _new_code() -> str:
    chars = [secrets.choice(ALPHABET) for _ in range(2 * HALF_LENGTH)]
    return "".join(chars[:HALF_LENGTH]) + "-" + "".join(chars[HALF_LENGTH:])


def generate_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes; the plain codes are returned once."""
    codes = [_new_code() for _ in range(RECOVERY_CODE_COUNT)]
    user.recovery_code_hashes = [hash_recovery_code(c) for c in codes]
    return codes


def looks_like_recovery_code(code: str) -> bool:
    return len(normalize_recovery_code(code)) == 2 * HALF_LENGTH


def use_recovery_code(store: Store, user: User, code: str) -> bool:
    """True once per code: a match is removed from the user's list (the caller commits); the
    store marks it used first, so two concurrent requests cannot both spend it."""
    candidate = hash_recovery_code(code)
    remaining = list(user.recovery_code_hashes or [])
    for stored in remaining:
        if hmac.compare_digest(stored, candidate):
            if not store.add(f"recovery_used:{user.id}:{stored}", "1", USED_MARK_SECONDS):
                return False
            remaining.remove(stored)
            user.recovery_code_hashes = remaining
            return True
    return False
