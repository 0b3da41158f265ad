"""Admin API: users (create, read, list, change, disable/enable, delete, reset password,
sign out everywhere, reset MFA) and the declared attributes."""

from __future__ import annotations

import secrets
from typing import Any

from flask import url_for
from sqlalchemy import func, literal

from app.accounts.attributes import (
    AttributeValidationError,
    attribute_specs,
    merge_attributes,
    validate_attributes,
)
from app.accounts.groups import GroupError, ordered_group_names, set_user_groups
from app.accounts.passwords import hash_password
from app.accounts.users import UserError, create_user, normalize_email
from app.admin import user_mail
from app.admin.auth import audit, require_scope
from app.admin.blueprint import bp, json_response, no_content
from app.admin.bodies import decode_cursor, encode_cursor, json_body, query_params
from app.admin.openapi import PAGE_QUERY, USER_QUERY, admin_schemas
from app.admin.problems import conflict, not_found, validation_problem
from app.extensions import db, frontdesk_state
from app.models import Group, User
from app.oauth.logout import end_everything

READ, WRITE = "admin:users:read", "admin:users:write"


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None


def user_resource(user: User) -> dict[str, Any]:
    """The User schema of the OpenAPI document (never hashes or secrets)."""
    return {"id": user.id, "email": user.email, "email_verified": user.email_verified,
            "status": user.status, "mfa_enabled": bool(user.totp_enabled),
            "has_password": bool(user.password_hash), "groups": ordered_group_names(user),
            "attributes": dict(user.attributes or {}), "created_at": _iso(user.created_at),
            "updated_at": _iso(user.updated_at), "last_login_at": _iso(user.last_login_at)}


def find_user(user_id: str) -> User:
    user = db.session.get(User, user_id) if len(user_id) <= 36 else None
    if user is None:
        raise not_found("user")
    return user


def _settings():
    return frontdesk_state().settings


def _attribute_problem(exc: AttributeValidationError):
    return validation_problem({f"attributes/{k}": v for k, v in exc.errors.items()})


def temporary_password() -> str:
    """Random, and meets any character-class policy (upper, lower, digit, symbol)."""
    return f"Tmp-{secrets.token_urlsafe(12)}a7"


# --- listing --------------------------------------------------------------------------------


def _like_prefix(prefix: str):
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(User.email).like(func.lower(literal(escaped + "%")), escape="\\")


@bp.get("/users")
@require_scope(READ)
def list_users():
    args = query_params(USER_QUERY | PAGE_QUERY)
    key, limit = decode_cursor(args.get("cursor")), args.get("limit", 50)
    sort_key = func.lower(User.email)
    stmt = db.select(User, sort_key).order_by(sort_key)
    if args.get("email"):
        stmt = stmt.where(_like_prefix(args["email"]))
    if args.get("status"):
        stmt = stmt.where(User.status == args["status"])
    if args.get("group"):
        stmt = stmt.where(User.groups.any(Group.name == args["group"]))
    if key:
        stmt = stmt.where(sort_key > key[0])
    rows = db.session.execute(stmt.limit(limit + 1)).all()
    more = len(rows) > limit
    next_cursor = encode_cursor(rows[limit - 1][1]) if more else None
    return json_response({"users": [user_resource(u) for u, _ in rows[:limit]],
                          "next_cursor": next_cursor})


@bp.get("/users/<user_id>")
@require_scope(READ)
def get_user(user_id: str):
    return json_response(user_resource(find_user(user_id)))


@bp.get("/attributes")
@require_scope(READ)
def list_attributes():
    specs = attribute_specs(_settings()).values()
    return json_response({"attributes": [s.describe() for s in specs]})


# --- creating -------------------------------------------------------------------------------


def _initial_password(body: dict) -> tuple[str | None, str | None]:
    """(password to set, temporary password to return)."""
    if body.get("password") is not None and body.get("temporary_password"):
        raise validation_problem({"password": "give a password or ask for a temporary one, "
                                              "not both"})
    if body.get("temporary_password"):
        generated = temporary_password()
        return generated, generated
    if body.get("password") is not None:
        user_mail.check_new_password(_settings(), body["password"], body["email"])
    return body.get("password"), None


def _new_user(body: dict) -> tuple[User, str | None]:
    settings = _settings()
    try:
        attributes = validate_attributes(settings, body.get("attributes"), for_create=True)
    except AttributeValidationError as exc:
        raise _attribute_problem(exc) from None
    password, shown = _initial_password(body)
    try:
        email = normalize_email(body["email"])
        if User.find_by_email(email) is not None:
            raise conflict("A user with this e-mail address exists.")
        user = create_user(settings, email=email, password=password,
                           verified=bool(body.get("email_verified")),
                           attributes=merge_attributes({}, attributes))
        set_user_groups(user, body.get("groups") or [])
    except (UserError, GroupError) as exc:
        raise validation_problem({"groups" if isinstance(exc, GroupError) else "email":
                                  str(exc)}) from None
    db.session.flush()
    return user, shown


@bp.post("/users")
@require_scope(WRITE)
def create_user_view():
    body = json_body(admin_schemas()["UserCreate"])
    user, shown = _new_user(body)
    audit("admin.user.created", user_id=user.id, email=user.email,
          temporary_password=shown is not None)
    db.session.commit()  # before the mail: the flow's store may share the database
    invited = bool(body.get("send_invitation")) and user_mail.send_invitation(user)
    if invited:
        audit("admin.user.invited", user_id=user.id)
        db.session.commit()
    data = user_resource(user) | {"temporary_password": shown, "invitation_sent": invited}
    return json_response(data, 201, {"Location": url_for("admin.get_user", user_id=user.id)})


# --- changing -------------------------------------------------------------------------------


def _change_email(user: User, raw: str) -> None:
    try:
        email = normalize_email(raw)
    except UserError as exc:
        raise validation_problem({"email": str(exc)}) from None
    other = User.find_by_email(email)
    if other is not None and other.id != user.id:
        raise conflict("A user with this e-mail address exists.")
    if email != user.email:
        user.email, user.email_verified = email, False


def _change_attributes(user: User, values: dict) -> None:
    try:
        cleaned = validate_attributes(_settings(), values, for_create=False,
                                      current=user.attributes)
    except AttributeValidationError as exc:
        raise _attribute_problem(exc) from None
    user.attributes = merge_attributes(user.attributes, cleaned)


@bp.patch("/users/<user_id>")
@require_scope(WRITE)
def update_user(user_id: str):
    user = find_user(user_id)
    body = json_body(admin_schemas()["UserUpdate"])
    if "email" in body:
        _change_email(user, body["email"])
    if "email_verified" in body:
        user.email_verified = body["email_verified"]
    if "attributes" in body:
        _change_attributes(user, body["attributes"])
    audit("admin.user.updated", user_id=user.id, fields=sorted(body),
          attributes=sorted(body.get("attributes") or {}))
    db.session.commit()
    return json_response(user_resource(user))


@bp.delete("/users/<user_id>")
@require_scope(WRITE)
def delete_user(user_id: str):
    user = find_user(user_id)
    end_everything(user.id)
    audit("admin.user.deleted", user_id=user.id, email=user.email)
    db.session.delete(user)
    db.session.commit()
    return no_content()


def _set_status(user_id: str, status: str):
    user = find_user(user_id)
    user.status = status
    if status == "disabled":
        end_everything(user.id)
    audit(f"admin.user.{status}", user_id=user.id)
    db.session.commit()
    return json_response(user_resource(user))


@bp.post("/users/<user_id>/disable")
@require_scope(WRITE)
def disable_user(user_id: str):
    return _set_status(user_id, "disabled")


@bp.post("/users/<user_id>/enable")
@require_scope(WRITE)
def enable_user(user_id: str):
    return _set_status(user_id, "enabled")


@bp.post("/users/<user_id>/reset-password")
@require_scope(WRITE)
def reset_password(user_id: str):
    user = find_user(user_id)
    body = json_body(admin_schemas()["PasswordReset"], optional=True)
    method = body.get("method") or "email"
    shown = None
    if method == "email" and not user_mail.send_password_reset(user):
        method = "temporary_password"
    if method == "temporary_password":
        shown = temporary_password()
        user.password_hash = hash_password(_settings(), shown)
        end_everything(user.id)
    audit("admin.user.password_reset", user_id=user.id, method=method)
    db.session.commit()
    return json_response({"method": method, "temporary_password": shown})


@bp.post("/users/<user_id>/sign-out")
@require_scope(WRITE)
def sign_out_user(user_id: str):
    user = find_user(user_id)
    ended = end_everything(user.id)
    audit("admin.user.signed_out", user_id=user.id, sessions_ended=ended)
    db.session.commit()
    return json_response({"sessions_ended": ended})


@bp.post("/users/<user_id>/reset-mfa")
@require_scope(WRITE)
def reset_mfa(user_id: str):
    user = find_user(user_id)
    user.totp_secret, user.totp_enabled, user.recovery_code_hashes = None, False, []
    audit("admin.user.mfa_reset", user_id=user.id)
    db.session.commit()
    return json_response(user_resource(user))
