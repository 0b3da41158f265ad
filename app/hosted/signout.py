"""Ending everything a user holds: browser sessions and refresh tokens."""

from __future__ import annotations

from app.accounts.signout import end_browser_sessions, revoke_refresh_tokens
from app.extensions import db, frontdesk_state


def revoke_tokens(user_id: str) -> None:
    """Revoke every refresh token of the user (the protocol's own function when present)."""
    try:
        from app.oauth.tokens import revoke_user_tokens
    except ImportError:  # the protocol part has not landed its tokens module yet
        revoke_user_tokens = revoke_refresh_tokens
    revoke_user_tokens(user_id)
    db.session.commit()


def sign_out_everywhere(user_id: str) -> int:
    """End all browser sessions (this one included) and revoke the refresh tokens."""
    ended = end_browser_sessions(frontdesk_state().store, user_id)
    revoke_tokens(user_id)
    return ended
