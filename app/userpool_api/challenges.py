"""What happens after the first factor: the pool's challenges (new password, TOTP, MFA
set-up) parked in the store under the opaque `Session` the SDKs pass back, then tokens.
The second-factor rules are the hosted pages' (app.accounts.mfa, the shared lockout)."""

from __future__ import annotations

import json
import secrets
from typing import Any

from flask import request

from app.accounts.origin import Origin
from app.extensions import db, frontdesk_state
from app.models import PoolUser, User, record_event
from app.models._types import utcnow
from app.triggers import run_trigger
from app.userpool_api.errors import ApiError
from app.userpool_api.tokens import issue_tokens

SESSION_PREFIX = "upauth:"
SESSION_SECONDS = 180  # a pool's challenge session lives three minutes
MAX_SESSION_ATTEMPTS = 3
AMR_PASSWORD = ["pwd"]
AMR_TOTP = ["pwd", "otp", "mfa"]


def origin_of(client_id: str | None) -> Origin:
    return Origin(ip=request.remote_addr, client_id=client_id)


def open_session(user_id: str, client_id: str, challenge: str, amr: list[str],
                 session_id: str | None = None, **extra: Any) -> str:
    session_id = session_id or secrets.token_urlsafe(48)
    frontdesk_state().store.set_json(SESSION_PREFIX + session_id, {
        "user_id": user_id, "client_id": client_id, "challenge": challenge, "amr": amr,
        "attempts": 0, **extra}, SESSION_SECONDS)
    return session_id


def load_session(session_id: Any, client_id: str, challenge: str) -> dict[str, Any]:
    """The parked challenge, or NotAuthorizedException as a pool says for a dead session."""
    data = None
    if isinstance(session_id, str) and 0 < len(session_id) <= 128:
        data = frontdesk_state().store.get_json(SESSION_PREFIX + session_id)
    if (not data or data.get("client_id") != client_id
            or data.get("challenge") != challenge):
        raise ApiError("NotAuthorizedException", "Invalid session for the user, session is "
                       "expired.")
    data["id"] = session_id
    return data


def count_failed_attempt(session: dict[str, Any]) -> None:
    """A wrong answer keeps the session for a retry, up to MAX_SESSION_ATTEMPTS."""
    store = frontdesk_state().store
    session["attempts"] = session.get("attempts", 0) + 1
    key = SESSION_PREFIX + session.pop("id")
    if session["attempts"] >= MAX_SESSION_ATTEMPTS:
        store.delete(key)
    else:
        store.set_json(key, session, SESSION_SECONDS)


def close_session(session: dict[str, Any]) -> None:
    frontdesk_state().store.delete(SESSION_PREFIX + session["id"])


def session_user(session: dict[str, Any]) -> User:
    user = db.session.get(User, session["user_id"])
    if user is None or not user.is_enabled:
        raise ApiError("NotAuthorizedException", "Invalid session for the user, session is "
                       "expired.")
    return user


def challenge(name: str, user: User, session_id: str, **parameters: str) -> dict[str, Any]:
    return {"ChallengeName": name, "Session": session_id,
            "ChallengeParameters": {"USER_ID_FOR_SRP": user.id, "USERNAME": user.id,
                                    **parameters}}


def after_first_factor(client, user: User, amr: list[str], with_refresh: bool
                       ) -> dict[str, Any]:
    """The next challenge for this user, or the tokens."""
    pool_user = db.session.get(PoolUser, user.id)
    if pool_user is not None and pool_user.force_password_change:
        session_id = open_session(user.id, client.client_id, "NEW_PASSWORD_REQUIRED", amr)
        return challenge("NEW_PASSWORD_REQUIRED", user, session_id, requiredAttributes="[]",
                         userAttributes=json.dumps({"email": user.email}))
    return after_new_password(client, user, amr, with_refresh)


def after_new_password(client, user: User, amr: list[str], with_refresh: bool
                       ) -> dict[str, Any]:
    policy = frontdesk_state().settings.mfa_policy
    if policy != "off" and user.totp_enabled:
        session_id = open_session(user.id, client.client_id, "SOFTWARE_TOKEN_MFA", amr)
        return challenge("SOFTWARE_TOKEN_MFA", user, session_id)
    if policy == "required":
        session_id = open_session(user.id, client.client_id, "MFA_SETUP", amr)
        return challenge("MFA_SETUP", user, session_id,
                         MFAS_CAN_SETUP='["SOFTWARE_TOKEN_MFA"]')
    return signed_in(client, user, amr, with_refresh)


def signed_in(client, user: User, amr: list[str], with_refresh: bool) -> dict[str, Any]:
    """Record the sign-in as the hosted pages do (audit, last login, trigger); tokens."""
    user_id, email = user.id, user.email
    user.last_login_at = utcnow()
    record_event("login_success", user_id=user_id, client_id=client.client_id,
                 ip=request.remote_addr, amr=list(amr), via="userpool_api")
    db.session.commit()
    run_trigger("post_authentication", {"user_id": user_id, "email": email,
                                        "client_id": client.client_id, "amr": list(amr)})
    user = db.session.get(User, user_id)
    return {"ChallengeParameters": {},
            "AuthenticationResult": issue_tokens(client, user, amr, with_refresh)}


