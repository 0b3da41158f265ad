"""Leaving and arriving with users: export and import records, legacy password hashes that
are upgraded to argon2id at the next successful login, lazy migration on login.

An export is JSON Lines: first one {"kind": "group", ...} line per group, then one
{"kind": "user", ...} line per user (docs/admin-api.md, "Export and import"). Import takes the
same records (or CSV rows turned into them) and is idempotent by e-mail address.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from app.accounts.attributes import merge_attributes, validate_attributes
from app.accounts.groups import create_group, find_group, set_user_groups, update_group
from app.accounts.legacy_hashes import check_hash, is_current_argon2, verify_legacy_hash
from app.accounts.mfa import read_totp_secret, store_totp_secret
from app.accounts.passwords import hash_password, password_hasher, verify_password
from app.accounts.users import UserError, create_user, normalize_email
from app.config import Settings
from app.extensions import db
from app.models import FederatedIdentity, Group, User, record_event
from app.triggers import run_trigger

STATUSES = ("enabled", "disabled")
RECORD_KEYS = {"kind", "id", "email", "email_verified", "status", "password_hash", "attributes",
               "groups", "federated_identities", "totp_secret", "totp_enabled",
               "recovery_code_hashes", "created_at", "updated_at", "last_login_at"}


class ImportRowError(UserError):
    """One record cannot be imported; the message says why (never echoes secrets)."""


# --- login ----------------------------------------------------------------------------------


def verify_and_upgrade_password(settings: Settings, user: User | None, password: str) -> bool:
    """Check a password against any accepted hash; on success replace a legacy or outdated
    hash by argon2id with our parameters (the caller commits). Without a hash it burns the
    time of a real check and fails. The hosted login calls this instead of verify_password."""
    stored = user.password_hash if user is not None else None
    if not stored:
        verify_password(settings, None, password)
        return False
    if is_current_argon2(stored, password_hasher(settings)):
        return verify_password(settings, stored, password)
    if not verify_legacy_hash(stored, password):
        return False
    user.password_hash = hash_password(settings, password)
    record_event("user.password_rehashed", user_id=user.id)
    return True


def migrate_user_on_login(settings: Settings, email: str, password: str,
                          client_id: str | None = None) -> User | None:
    """user_migration trigger: an unknown e-mail is checked against the legacy system; on
    success the user is created with the entered password, hashed by us (the caller commits).
    None when the e-mail is known here, invalid, or the legacy system does not know it."""
    try:
        email = normalize_email(email)
    except UserError:
        return None
    if User.find_by_email(email) is not None:
        return None
    answer = run_trigger("user_migration", {"email": email, "password": password})
    if not answer:
        return None
    try:
        cleaned = validate_attributes(settings, answer.get("attributes") or {},
                                      for_create=True, required=[])
    except UserError:
        return None
    user = create_user(settings, email=email, password=password,
                       verified=bool(answer.get("email_verified")),
                       attributes=merge_attributes({}, cleaned))
    db.session.flush()
    record_event("user.migrated", user_id=user.id, client_id=client_id)
    return user


# --- export ---------------------------------------------------------------------------------


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def export_group(group: Group) -> dict[str, Any]:
    return {"kind": "group", "name": group.name, "description": group.description,
            "precedence": group.precedence}


def export_user(settings: Settings, user: User, *, include_mfa: bool = True) -> dict[str, Any]:
    """Everything needed to recreate the user elsewhere, password hash included."""
    links = db.session.scalars(db.select(FederatedIdentity)
                               .where(FederatedIdentity.user_id == user.id)
                               .order_by(FederatedIdentity.id)).all()
    record = {
        "kind": "user", "id": user.id, "email": user.email,
        "email_verified": user.email_verified, "status": user.status,
        "password_hash": user.password_hash, "attributes": dict(user.attributes or {}),
        "groups": [g.name for g in user.groups],
        "federated_identities": [{"provider": f.provider, "subject": f.subject,
                                  "email": f.email} for f in links],
        "created_at": _iso(user.created_at), "updated_at": _iso(user.updated_at),
        "last_login_at": _iso(user.last_login_at),
    }
    if include_mfa:
        record["totp_secret"] = read_totp_secret(settings, user)
        record["totp_enabled"] = user.totp_enabled
        record["recovery_code_hashes"] = list(user.recovery_code_hashes or [])
    return record


def export_query():
    """Users in a stable order (created_at, id), for a streaming export."""
    return db.select(User).order_by(User.created_at, User.id)


# --- import ---------------------------------------------------------------------------------


def _bool(record: dict, key: str, default: bool) -> bool:
    value = record.get(key)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "1", "yes", "false", "0",
                                                            "no"}:
        return value.strip().lower() in {"true", "1", "yes"}
    raise ImportRowError(f"{key} must be true or false")


def _list(record: dict, key: str) -> list:
    value = record.get(key)
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        raise ImportRowError(f"{key} must be a list")
    return value


def _import_group(record: dict, *, update: bool) -> str:
    name = record.get("name")
    description = record.get("description") or ""
    precedence = record.get("precedence") or 0
    group = find_group(name) if isinstance(name, str) else None
    if group is None:
        create_group(name, description, precedence)
        return "created"
    if not update or (group.description, group.precedence) == (description, precedence):
        return "skipped"
    update_group(group, description=description, precedence=precedence)
    return "updated"


def _check_id(record: dict) -> str | None:
    raw = record.get("id")
    if raw in (None, ""):
        return None
    try:
        user_id = str(uuid.UUID(str(raw)))
    except ValueError:
        raise ImportRowError("id must be a UUID") from None
    if db.session.get(User, user_id) is not None:
        raise ImportRowError("id already belongs to another user")
    return user_id


def _check_status(record: dict) -> str:
    status = record.get("status") or "enabled"
    if status not in STATUSES:
        raise ImportRowError("status must be enabled or disabled")
    return status


def _link_identities(user: User, identities: list) -> None:
    for item in identities:
        if not isinstance(item, dict) or not isinstance(item.get("provider"), str) \
                or not isinstance(item.get("subject"), str) or not item["provider"] \
                or not item["subject"]:
            raise ImportRowError("a federated identity needs a provider and a subject")
        existing = db.session.scalar(db.select(FederatedIdentity).where(
            FederatedIdentity.provider == item["provider"],
            FederatedIdentity.subject == item["subject"]))
        if existing is not None and existing.user_id != user.id:
            raise ImportRowError(f"{item['provider']} identity is linked to another user")
        if existing is None:
            db.session.add(FederatedIdentity(provider=item["provider"], subject=item["subject"],
                                             user_id=user.id, email=item.get("email")))


def _apply_mfa(settings: Settings, user: User, record: dict) -> None:
    if record.get("totp_secret"):
        try:
            store_totp_secret(settings, user, str(record["totp_secret"]),
                              enabled=_bool(record, "totp_enabled", True))
        except ValueError as exc:
            raise ImportRowError(str(exc)) from None
    codes = _list(record, "recovery_code_hashes")
    if codes:
        if not all(isinstance(c, str) and len(c) == 64 for c in codes):
            raise ImportRowError("recovery_code_hashes are hex SHA-256 digests")
        user.recovery_code_hashes = list(codes)


def _parse_time(record: dict, key: str) -> datetime | None:
    value = record.get(key)
    if value in (None, ""):
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        raise ImportRowError(f"{key} must be an ISO 8601 date-time") from None


def _create_imported(settings: Settings, email: str, record: dict) -> User:
    user_id = _check_id(record)
    password_hash = record.get("password_hash") or None
    if password_hash is not None:
        check_hash(password_hash)
    cleaned = validate_attributes(settings, record.get("attributes"), for_create=True)
    user = create_user(settings, email=email, password=None, password_hash=password_hash,
                       verified=_bool(record, "email_verified", False),
                       attributes=merge_attributes({}, cleaned))
    if user_id:
        user.id = user_id
    user.status = _check_status(record)
    user.created_at = _parse_time(record, "created_at") or user.created_at
    user.last_login_at = _parse_time(record, "last_login_at")
    return user


def _update_imported(settings: Settings, user: User, record: dict) -> None:
    if record.get("password_hash"):
        check_hash(record["password_hash"])
        user.password_hash = record["password_hash"]
    if "attributes" in record:
        cleaned = validate_attributes(settings, record.get("attributes"), for_create=False,
                                      current=user.attributes)
        user.attributes = merge_attributes(user.attributes, cleaned)
    if record.get("email_verified") not in (None, ""):
        user.email_verified = _bool(record, "email_verified", user.email_verified)
    if record.get("status"):
        user.status = _check_status(record)


def _import_user(settings: Settings, record: dict, *, update: bool) -> str:
    email = normalize_email(record.get("email") if isinstance(record.get("email"), str) else "")
    user = User.find_by_email(email)
    if user is not None and not update:
        return "skipped"
    outcome = "updated" if user is not None else "created"
    if user is None:
        user = _create_imported(settings, email, record)
    else:
        _update_imported(settings, user, record)
    if "groups" in record or outcome == "created":
        groups = _list(record, "groups")
        if not all(isinstance(g, str) for g in groups):
            raise ImportRowError("groups must be a list of names")
        set_user_groups(user, groups, create_missing=True)
    db.session.flush()
    _link_identities(user, _list(record, "federated_identities"))
    _apply_mfa(settings, user, record)
    return outcome


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    return isinstance(value, list) and any(_has_nul(v) for v in value)


def import_record(settings: Settings, record: Any, *, update: bool = False) -> str:
    """Add (or with update=True, update) one group or user; returns created | updated |
    skipped. Raises a UserError subclass (ValueError) naming the problem. Caller commits."""
    if not isinstance(record, dict):
        raise ImportRowError("a record is a JSON object")
    if _has_nul(record):
        raise ImportRowError("the record contains a NUL character")
    kind = record.get("kind") or "user"
    if kind == "group":
        return _import_group(record, update=update)
    if kind != "user":
        raise ImportRowError("kind must be user or group")
    unknown = set(record) - RECORD_KEYS
    if unknown:
        raise ImportRowError(f"unknown fields: {', '.join(sorted(map(str, unknown))[:5])}")
    return _import_user(settings, record, update=update)
