"""Rate limits on counters in the store: per IP (bursts -> 429) and per address (mail)."""

from __future__ import annotations

import time

from app.accounts.storekeys import subject_key
from app.config import Settings
from app.store import Store

MAILS_PER_ADDRESS_PER_HOUR = 10


def count_and_check(store: Store, key: str, limit: int, window_seconds: int) -> bool:
    """Count one event in a fixed window; True while the count stays within `limit`."""
    window = int(time.time() // window_seconds)
    return store.incr(f"rl:{key}:{window}", window_seconds) <= limit


def ip_within_limit(store: Store, settings: Settings, ip: str | None) -> bool:
    """Sensitive form posts from one IP per minute."""
    return count_and_check(store, f"ip:{subject_key(ip or 'unknown')}",
                           settings.ip_max_requests_per_minute, 60)


def mail_allowed(store: Store, settings: Settings, email: str, purpose: str) -> bool:
    """A cool-down between two mails of one purpose to one address (a sign-up code does not
    hold back a reset code), and an hourly cap over all purposes."""
    key = subject_key(email)
    if not store.add(f"mailcool:{purpose}:{key}", "1", settings.mail_cooldown_seconds):
        return False
    return count_and_check(store, f"mailhour:{key}", MAILS_PER_ADDRESS_PER_HOUR, 3600)


def mail_cooldown_active(store: Store, email: str, purpose: str) -> bool:
    return store.get(f"mailcool:{purpose}:{subject_key(email)}") is not None
