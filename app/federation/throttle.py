"""Limits on the link-by-password form: per IP per minute, and failures per account.

Failures here count on their own key, so a wrong password on this form locks the link step
of that account for LOCKOUT_SECONDS after LOGIN_MAX_FAILURES tries.
"""

from __future__ import annotations

from app.extensions import frontdesk_state


def _ip_key(ip: str) -> str:
    return f"rl:fed-link:ip:{ip}"


def _failures_key(user_id: str) -> str:
    return f"rl:fed-link:fail:{user_id}"


def ip_over_limit(ip: str | None) -> bool:
    """Count this request; True when the IP went over its per-minute budget."""
    state = frontdesk_state()
    count = state.store.incr(_ip_key(ip or "unknown"), 60)
    return count > state.settings.ip_max_requests_per_minute


def _locked_key(user_id: str) -> str:
    return f"rl:fed-link:locked:{user_id}"


def account_locked(user_id: str) -> bool:
    return frontdesk_state().store.get(_locked_key(user_id)) is not None


def record_failure(user_id: str) -> None:
    """Count a wrong password; at the limit the account's link step locks for a while."""
    state = frontdesk_state()
    settings = state.settings
    if state.store.incr(_failures_key(user_id), settings.lockout_seconds) >= \
            settings.login_max_failures:
        state.store.set(_locked_key(user_id), "1", settings.lockout_seconds)
        state.store.delete(_failures_key(user_id))


def clear_failures(user_id: str) -> None:
    frontdesk_state().store.delete(_failures_key(user_id))
