"""Password login rules: one generic failure for an unknown address, a wrong password, a
disabled account and a locked one, each doing the same argon2 work (a dummy hash stands in
for a missing user), so neither the answer nor its timing tells them apart."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, func, inspect, select
from sqlalchemy.orm import make_transient_to_detached

from app.accounts.lockout import clear_failures, lockout_state, record_failure
from app.accounts.origin import Origin
from app.accounts.passwords import verify_password
from app.accounts.portability import migrate_user_on_login, verify_and_upgrade_password
from app.accounts.users import UserError, normalize_email
from app.config import Settings
from app.extensions import db
from app.models import User, record_event
from app.readonly_db import fetch_rows
from app.store import Store
from app.triggers import run_trigger


@dataclass(frozen=True)
class LoginCheck:
    status: str  # "ok" | "failed" | "unverified"
    user: User | None = None


FAILED = LoginCheck("failed")

_USER_ATTRIBUTES = [(attr.key, attr.columns[0]) for attr in inspect(User).column_attrs]
_USER_BY_EMAIL = select(*(column for _, column in _USER_ATTRIBUTES)).where(
    func.lower(User.__table__.c.email) == bindparam("email"))


def _login_user(email: str) -> User | None:
    """User.find_by_email in one autocommit SELECT. The row joins the session as a
    persistent User (merge without a load), so no transaction opens for a login that writes
    nothing through the ORM: BEGIN and COMMIT are two round trips of every login."""
    rows = fetch_rows(db.engine, _USER_BY_EMAIL, {"email": email.strip().lower()})
    if not rows:
        return None
    user = User(**{key: value for (key, _), value in zip(_USER_ATTRIBUTES, rows[0],
                                                         strict=True)})
    make_transient_to_detached(user)
    return db.session.merge(user, load=False)


def check_password_login(settings: Settings, store: Store, email: str, password: str,
                         origin: Origin) -> LoginCheck:
    """Check e-mail + password; raises TriggerAbort when pre_authentication rejects."""
    try:
        email = normalize_email(email)
    except UserError:
        verify_password(settings, None, password)
        return FAILED
    locked, failures_on_record = lockout_state(store, email)
    if locked:
        verify_password(settings, None, password)
        _record_failure(settings, store, email, None, origin, "locked")
        return FAILED
    user = _login_user(email)
    migrated = None if user is not None else migrate_user_on_login(
        settings, email, password, origin.client_id)
    stored_hash = user.password_hash if user is not None else None
    # legacy hashes (bcrypt, pbkdf2, scrypt, older argon2) are replaced by argon2id here
    valid = migrated is not None or verify_and_upgrade_password(settings, user, password)
    user = user or migrated
    if not valid or not user.is_enabled:
        reason = "unknown_user" if user is None else ("disabled" if valid else "bad_password")
        _record_failure(settings, store, email, user, origin, reason)
        return FAILED
    if migrated is not None or user.password_hash != stored_hash:
        db.session.commit()  # keep the new account / hash even if pre_authentication rejects
    run_trigger("pre_authentication", {"user_id": user.id, "email": user.email,
                                       "client_id": origin.client_id})
    if failures_on_record:
        clear_failures(store, email)
    if db.session.new or db.session.dirty or db.session.deleted:
        db.session.commit()  # what a trigger added; else the caller's commit ends the work
    return LoginCheck("ok" if user.email_verified else "unverified", user)


def _record_failure(settings: Settings, store: Store, email: str, user: User | None,
                    origin: Origin, reason: str) -> None:
    if reason != "locked" and record_failure(store, settings, email):
        reason = f"{reason}+lockout"
    record_event("login_failure", user_id=user.id if user else None,
                 client_id=origin.client_id, ip=origin.ip, email=email, reason=reason)
    db.session.commit()


def record_mfa_failure(settings: Settings, store: Store, user: User, origin: Origin) -> bool:
    """A wrong second factor counts like a wrong password; True when it started a lockout."""
    locked = record_failure(store, settings, user.email)
    record_event("mfa_failure", user_id=user.id, client_id=origin.client_id, ip=origin.ip,
                 lockout=locked)
    db.session.commit()
    return locked

