"""Limits on the link-by-password form, shared with the password login (app.accounts):
the per-IP budget of sensitive posts, and the account lockout keyed by e-mail. A wrong
password here counts exactly like one on /login, so the link form is no extra oracle."""

from __future__ import annotations

from app.accounts import lockout
from app.accounts.throttle import ip_within_limit
from app.extensions import frontdesk_state


def ip_over_limit(ip: str | None) -> bool:
    """Count this request; True when the IP went over its per-minute budget."""
    state = frontdesk_state()
    return not ip_within_limit(state.store, state.settings, ip)


def account_locked(email: str) -> bool:
    return lockout.is_locked(frontdesk_state().store, email)


def record_failure(email: str) -> None:
    state = frontdesk_state()
    lockout.record_failure(state.store, state.settings, email)


def clear_failures(email: str) -> None:
    lockout.clear_failures(frontdesk_state().store, email)
