"""Ending a user's browser sessions (password reset, "sign out everywhere"); the refresh
tokens are the protocol's (app.oauth.tokens.revoke_user_tokens, called by the pages)."""

from __future__ import annotations

from app.sessions import end_user_sessions
from app.store import Store


def end_browser_sessions(store: Store, user_id: str) -> int:
    return end_user_sessions(store, user_id)
