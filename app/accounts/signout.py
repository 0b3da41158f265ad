"""Ending a user's sessions and refresh tokens (password reset, "sign out everywhere")."""

from __future__ import annotations

from sqlalchemy import update

from app.extensions import db
from app.models import RefreshToken
from app.sessions import end_user_sessions
from app.store import Store


def revoke_refresh_tokens(user_id: str) -> None:
    """Fallback used only while app.oauth.tokens.revoke_user_tokens is not available."""
    db.session.execute(update(RefreshToken).where(
        RefreshToken.user_id == user_id, RefreshToken.revoked.is_(False)).values(revoked=True))


def end_browser_sessions(store: Store, user_id: str) -> int:
    return end_user_sessions(store, user_id)
