"""Ending everything a user holds: browser sessions and refresh tokens."""

from __future__ import annotations

from app.accounts.signout import end_browser_sessions
from app.extensions import frontdesk_state
from app.oauth.tokens import revoke_user_tokens


def revoke_tokens(user_id: str) -> int:
    """Revoke (and commit) every refresh token of the user."""
    return revoke_user_tokens(user_id)


def sign_out_everywhere(user_id: str) -> int:
    """End all browser sessions (this one included) and revoke the refresh tokens."""
    ended = end_browser_sessions(frontdesk_state().store, user_id)
    revoke_tokens(user_id)
    return ended
