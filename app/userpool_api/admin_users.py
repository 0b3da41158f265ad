"""The admin user actions (SigV4-signed): create, read, list, change, disable, enable,
delete, passwords and sign-out, on the same rules as the admin REST API and the CLI
(app.accounts.users, attributes, groups; the issuer's revocation)."""

from __future__ import annotations

import secrets
from typing import Any

from app.accounts.attributes import AttributeValidationError, merge_attributes, validate_attributes
from app.accounts.password_reset import start_password_reset
from app.accounts.users import UserError, create_user, normalize_email
from app.extensions import db, frontdesk_state
from app.models import PoolUser, User, record_event
from app.oauth.logout import end_everything
from app.userpool_api import passwords
from app.userpool_api.account import mfa_settings
from app.userpool_api.attributes import READ_ONLY, attribute_list, parse_attribute_list
from app.userpool_api.errors import ApiError, invalid_parameter, optional_string, require_string

WRITABLE_BY_ADMIN = frozenset({"email", "email_verified"})


def find_user(body: dict) -> User:
    """The user named by Username (the sub or the e-mail address); admins may learn that
    it does not exist."""
    username = require_string(body, "Username", 320)
    user = db.session.get(User, username) if "@" not in username else None
    if user is None and "@" in username:
        try:
            user = User.find_by_email(normalize_email(username))
        except UserError:
            user = None
    if user is None:
        raise ApiError("UserNotFoundException", "User does not exist.")
    return user


def user_status(user: User) -> str:
    row = db.session.get(PoolUser, user.id)
    if row is not None and row.force_password_change:
        return "FORCE_CHANGE_PASSWORD"
    if not user.email_verified:
        return "UNCONFIRMED"
    return "CONFIRMED" if user.password_hash else "RESET_REQUIRED"


def describe(user: User, attributes_key: str = "Attributes") -> dict[str, Any]:
    return {"Username": user.id, attributes_key: attribute_list(user),
            "UserCreateDate": user.created_at.timestamp() if user.created_at else None,
            "UserLastModifiedDate": user.updated_at.timestamp() if user.updated_at else None,
            "Enabled": user.is_enabled, "UserStatus": user_status(user)}


def _attributes(changes: dict[str, str], current: dict | None) -> dict[str, Any]:
    try:
        return validate_attributes(frontdesk_state().settings, changes, for_create=False,
                                   current=current)
    except AttributeValidationError as exc:
        raise invalid_parameter(str(exc)) from None


def admin_create_user(body: dict, caller) -> dict[str, Any]:
    if body.get("MessageAction") != "SUPPRESS":
        raise invalid_parameter("Invitation messages are not sent here: pass MessageAction "
                                "SUPPRESS and hand over the temporary password yourself.")
    changes = parse_attribute_list(body.get("UserAttributes"))
    username = require_string(body, "Username", 320)
    email = changes.pop("email", username)
    verified = changes.pop("email_verified", "false").lower() == "true"
    temporary = optional_string(body, "TemporaryPassword", 256) or _temporary_password()
    passwords.require_policy(temporary, email)
    try:
        if User.find_by_email(normalize_email(email)) is not None:
            raise ApiError("UsernameExistsException", "User account already exists")
        user = create_user(frontdesk_state().settings, email=email, password=temporary,
                           verified=verified, attributes=_attributes(changes, {}))
    except UserError as exc:
        raise invalid_parameter(str(exc)) from None
    db.session.flush()
    row = passwords.pool_user(user.id)
    row.force_password_change = True
    row.srp_verifier = passwords.sealed_verifier(user.id, temporary)
    record_event("admin.user.created", user_id=user.id, actor=f"sigv4:{caller.access_key_id}")
    db.session.commit()
    return {"User": describe(user)}


def _temporary_password() -> str:
    """Meets any policy of ours: every character class, 20 characters."""
    return "Tmp-" + secrets.token_urlsafe(12) + "a1A!"


def admin_get_user(body: dict, caller) -> dict[str, Any]:
    user = find_user(body)
    return {**describe(user, "UserAttributes"), **mfa_settings(user)}


def admin_update_user_attributes(body: dict, caller) -> dict[str, Any]:
    user = find_user(body)
    changes = parse_attribute_list(body.get("UserAttributes"))
    if (READ_ONLY - WRITABLE_BY_ADMIN) & set(changes):
        raise invalid_parameter("Cannot modify the sub attribute.")
    if "email" in changes:
        _change_email(user, changes.pop("email"))
    if "email_verified" in changes:
        user.email_verified = changes.pop("email_verified").lower() == "true"
    if changes:
        user.attributes = merge_attributes(user.attributes,
                                           _attributes(changes, user.attributes))
    record_event("admin.user.updated", user_id=user.id, actor=f"sigv4:{caller.access_key_id}")
    db.session.commit()
    return {}


def _change_email(user: User, email: str) -> None:
    try:
        email = normalize_email(email)
    except UserError as exc:
        raise invalid_parameter(str(exc)) from None
    other = User.find_by_email(email)
    if other is not None and other.id != user.id:
        raise ApiError("AliasExistsException", "An account with the given email already "
                       "exists.")
    user.email = email


def _set_status(body: dict, caller, status: str) -> dict[str, Any]:
    user = find_user(body)
    user.status = status
    record_event(f"admin.user.{status}", user_id=user.id,
                 actor=f"sigv4:{caller.access_key_id}")
    db.session.commit()
    if status == "disabled":
        end_everything(user.id)
    return {}


def admin_disable_user(body: dict, caller) -> dict[str, Any]:
    return _set_status(body, caller, "disabled")


def admin_enable_user(body: dict, caller) -> dict[str, Any]:
    return _set_status(body, caller, "enabled")


def admin_delete_user(body: dict, caller) -> dict[str, Any]:
    user = find_user(body)
    end_everything(user.id)
    record_event("admin.user.deleted", user_id=user.id, email=user.email,
                 actor=f"sigv4:{caller.access_key_id}")
    db.session.delete(user)
    db.session.commit()
    return {}


def admin_set_user_password(body: dict, caller) -> dict[str, Any]:
    """A permanent password, or a temporary one to change at the next sign-in; either way
    the user's sessions and tokens end."""
    user = find_user(body)
    password = require_string(body, "Password", 256)
    passwords.set_password(user, password)
    passwords.pool_user(user.id).force_password_change = body.get("Permanent") is not True
    record_event("admin.user.password_set", user_id=user.id,
                 actor=f"sigv4:{caller.access_key_id}")
    db.session.commit()
    end_everything(user.id)
    return {}


def admin_reset_user_password(body: dict, caller) -> dict[str, Any]:
    """The password stops working; the user gets a reset code by mail (ForgotPassword's)."""
    user = find_user(body)
    user.password_hash = None
    passwords.pool_user(user.id).srp_verifier = None
    record_event("admin.user.password_reset", user_id=user.id,
                 actor=f"sigv4:{caller.access_key_id}")
    db.session.commit()
    end_everything(user.id)
    state = frontdesk_state()
    start_password_reset(state.settings, state.store, user.email)
    return {}


def admin_user_global_sign_out(body: dict, caller) -> dict[str, Any]:
    user = find_user(body)
    end_everything(user.id)
    record_event("admin.user.signed_out", user_id=user.id,
                 actor=f"sigv4:{caller.access_key_id}")
    db.session.commit()
    return {}


ACTIONS = {
    "AdminCreateUser": (admin_create_user, "admin:users:write"),
    "AdminGetUser": (admin_get_user, "admin:users:read"),
    "AdminUpdateUserAttributes": (admin_update_user_attributes, "admin:users:write"),
    "AdminDisableUser": (admin_disable_user, "admin:users:write"),
    "AdminEnableUser": (admin_enable_user, "admin:users:write"),
    "AdminDeleteUser": (admin_delete_user, "admin:users:write"),
    "AdminSetUserPassword": (admin_set_user_password, "admin:users:write"),
    "AdminResetUserPassword": (admin_reset_user_password, "admin:users:write"),
    "AdminUserGlobalSignOut": (admin_user_global_sign_out, "admin:users:write"),
}
