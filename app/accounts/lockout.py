"""Temporary lockout after repeated failures, keyed by address (known or not, so the lockout
itself reveals nothing about which addresses have accounts)."""

from __future__ import annotations

from app.accounts.storekeys import subject_key
from app.config import Settings
from app.store import Store


def _keys(email: str) -> tuple[str, str]:
    key = subject_key(email)
    return f"fail:{key}", f"lock:{key}"


def is_locked(store: Store, email: str) -> bool:
    return store.get(_keys(email)[1]) is not None


def lockout_state(store: Store, email: str) -> tuple[bool, bool]:
    """(locked, failures on record), in one round trip: a login that finds no failures has
    nothing to clear afterwards."""
    failures, lock = store.get_many(*_keys(email))
    return lock is not None, failures is not None


def record_failure(store: Store, settings: Settings, email: str) -> bool:
    """Count a failed login or MFA code; True when this failure started a lockout."""
    failures, lock = _keys(email)
    if store.incr(failures, settings.lockout_seconds) < settings.login_max_failures:
        return False
    store.set(lock, "1", settings.lockout_seconds)
    store.delete(failures)
    return True


def clear_failures(store: Store, email: str) -> None:
    store.delete(*_keys(email))
