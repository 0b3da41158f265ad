"""Password login rules: one generic failure for an unknown address, a wrong password, a
disabled account and a locked one, each doing the same argon2 work (a dummy hash stands in
for a missing user), so neither the answer nor its timing tells them apart."""

from __future__ import annotations

from dataclasses import dataclass

from app.accounts.lockout import clear_failures, is_locked, record_failure
from app.accounts.origin import Origin
from app.accounts.passwords import hash_password, needs_rehash, verify_password
from app.accounts.users import UserError, create_user, normalize_email
from app.config import Settings
from app.extensions import db
from app.models import User, record_event
from app.store import Store
from app.triggers import TriggerAbort, run_trigger


@dataclass(frozen=True)
class LoginCheck:
    status: str  # "ok" | "failed" | "unverified"
    user: User | None = None


FAILED = LoginCheck("failed")


def check_password_login(settings: Settings, store: Store, email: str, password: str,
                         origin: Origin) -> LoginCheck:
    """Check e-mail + password; raises TriggerAbort when pre_authentication rejects."""
    try:
        email = normalize_email(email)
    except UserError:
        verify_password(settings, None, password)
        return FAILED
    if is_locked(store, email):
        verify_password(settings, None, password)
        _record_failure(settings, store, email, None, origin, "locked")
        return FAILED
    user = User.find_by_email(email)
    migrated = user is None and (user := _migrate_user(settings, email, password)) is not None
    valid = migrated or verify_password(settings, user.password_hash if user else None, password)
    if not valid or not user.is_enabled:
        reason = "unknown_user" if user is None else ("disabled" if valid else "bad_password")
        _record_failure(settings, store, email, user, origin, reason)
        return FAILED
    if needs_rehash(settings, user.password_hash):
        user.password_hash = hash_password(settings, password)
    run_trigger("pre_authentication", {"user_id": user.id, "email": user.email,
                                       "client_id": origin.client_id})
    clear_failures(store, email)
    db.session.commit()
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


def _migrate_user(settings: Settings, email: str, password: str) -> User | None:
    """user_migration: a legacy system vouches for this unknown address and password."""
    try:
        answer = run_trigger("user_migration", {"email": email, "password": password}) or {}
    except TriggerAbort:
        return None
    if not answer or not isinstance(answer.get("attributes", {}), dict):
        return None
    user = create_user(settings, email=email, password=password,
                       verified=bool(answer.get("email_verified")),
                       attributes=answer.get("attributes") or {})
    db.session.flush()
    record_event("user_migrated", user_id=user.id, email=email)
    db.session.commit()
    return user
