"""Ending everything a user holds, as "sign out everywhere" on the hosted pages does: the
browser sessions (app.accounts.signout) and the refresh and access tokens (the issuer)."""

from __future__ import annotations

from app.accounts.signout import end_browser_sessions
from app.extensions import frontdesk_state
from app.oauth.tokens import revoke_user_tokens


def end_everything(user_id: str) -> None:
    end_browser_sessions(frontdesk_state().store, user_id)
    revoke_user_tokens(user_id)
