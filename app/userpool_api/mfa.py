"""TOTP enrolment through the pool API (AssociateSoftwareToken, VerifySoftwareToken,
SetUserMFAPreference), with app.accounts.mfa's secrets, codes and replay rule. A verified
secret is kept (sealed) but turned on only by SetUserMFAPreference, as a pool does; in the
MFA_SETUP challenge of a sign-in, verifying it turns it on."""

from __future__ import annotations

from typing import Any

from app.accounts.mfa import (
    disable_totp,
    enable_totp,
    new_totp_secret,
    read_totp_secret,
    store_totp_secret,
    verify_totp,
)
from app.extensions import db, frontdesk_state
from app.models import User, record_event
from app.secretbox import SecretBoxError, seal, unseal
from app.userpool_api.account import token_user
from app.userpool_api.challenges import SESSION_PREFIX, SESSION_SECONDS, session_user
from app.userpool_api.errors import ApiError, invalid_parameter, not_authorized, require_string

PENDING_PREFIX = "uptotp:"
PENDING_PURPOSE = "userpool-totp-pending"
PENDING_SECONDS = 600


def _setup_session(session_id: Any) -> dict[str, Any]:
    data = None
    if isinstance(session_id, str) and 0 < len(session_id) <= 128:
        data = frontdesk_state().store.get_json(SESSION_PREFIX + session_id)
    if not data or data.get("challenge") != "MFA_SETUP":
        raise not_authorized("Invalid session for the user, session is expired.")
    data["id"] = session_id
    return data


def _caller(body: dict) -> tuple[User, dict[str, Any] | None]:
    """The user, by AccessToken or by the Session of an MFA_SETUP challenge."""
    if body.get("AccessToken"):
        return token_user(body)[0], None
    session = _setup_session(body.get("Session"))
    return session_user(session), session


def associate_software_token(body: dict) -> dict[str, Any]:
    user, session = _caller(body)
    state = frontdesk_state()
    secret = new_totp_secret()
    state.store.set(PENDING_PREFIX + user.id, seal(state.settings.secret_key, PENDING_PURPOSE,
                                                   secret), PENDING_SECONDS)
    answer: dict[str, Any] = {"SecretCode": secret}
    if session is not None:
        answer["Session"] = session["id"]
    return answer


def _pending_secret(user: User) -> str | None:
    state = frontdesk_state()
    sealed = state.store.get(PENDING_PREFIX + user.id)
    try:
        return unseal(state.settings.secret_key, PENDING_PURPOSE, sealed) if sealed else None
    except SecretBoxError:
        return None


def verify_software_token(body: dict) -> dict[str, Any]:
    user, session = _caller(body)
    code = require_string(body, "UserCode", 16)
    state = frontdesk_state()
    secret = _pending_secret(user)
    if secret is None:
        raise ApiError("SoftwareTokenMFANotFoundException", "Software Token MFA has not "
                       "been associated with the user.")
    if not verify_totp(state.store, secret, user.id, code):
        raise ApiError("EnableSoftwareTokenMFAException", "Code mismatch and fail enable "
                       "Software Token MFA")
    state.store.delete(PENDING_PREFIX + user.id)
    if session is None:
        store_totp_secret(state.settings, user, secret, enabled=False)
    else:
        enable_totp(state.settings, user, secret)
        session["totp_verified"] = True
        state.store.set_json(SESSION_PREFIX + session.pop("id"), session, SESSION_SECONDS)
    record_event("mfa_verified", user_id=user.id, via="userpool_api")
    db.session.commit()
    answer: dict[str, Any] = {"Status": "SUCCESS"}
    if session is not None:
        answer["Session"] = body["Session"]
    return answer


def set_user_mfa_preference(body: dict) -> dict[str, Any]:
    user, _ = token_user(body)
    settings_in = body.get("SoftwareTokenMfaSettings")
    if not isinstance(settings_in, dict) or "Enabled" not in settings_in:
        return {}  # only software tokens exist here: other settings change nothing
    state = frontdesk_state()
    if settings_in["Enabled"] is True:
        secret = read_totp_secret(state.settings, user)
        if secret is None:
            raise invalid_parameter("User has not verified software token mfa")
        if not user.totp_enabled:
            enable_totp(state.settings, user, secret)
            record_event("mfa_enabled", user_id=user.id, via="userpool_api")
    elif user.totp_enabled or user.totp_secret:
        if state.settings.mfa_policy == "required":
            raise invalid_parameter("MFA is required in this pool and cannot be turned off.")
        disable_totp(user)
        record_event("mfa_disabled", user_id=user.id, via="userpool_api")
    db.session.commit()
    return {}


ACTIONS = {
    "AssociateSoftwareToken": associate_software_token,
    "VerifySoftwareToken": verify_software_token,
    "SetUserMFAPreference": set_user_mfa_preference,
}
