"""Creating and describing users (CLI, admin API, sign-up all come through here)."""

from __future__ import annotations

import re

from app.accounts.passwords import hash_password
from app.config import Settings
from app.extensions import db
from app.models import Group, User

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class UserError(ValueError):
    """Invalid user data; the message is fit to show to an operator."""


def normalize_email(email: str) -> str:
    email = (email or "").strip()
    if len(email) > 320 or not EMAIL_RE.match(email):
        raise UserError(f"invalid e-mail address {email!r}")
    local, _, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def require_user(email: str) -> User:
    """The user with this e-mail (case-insensitive); UserError when invalid or unknown."""
    user = User.find_by_email(normalize_email(email))
    if user is None:
        raise UserError(f"no user with e-mail {email!r}")
    return user


def get_or_create_group(name: str) -> Group:
    group = db.session.scalar(db.select(Group).where(Group.name == name))
    if group is None:
        group = Group(name=name)
        db.session.add(group)
    return group


def create_user(settings: Settings, *, email: str, password: str | None,
                verified: bool = False, groups: list[str] = (),
                attributes: dict | None = None, password_hash: str | None = None,
                user_id: str | None = None) -> User:
    """Add a user to the session (the caller commits). E-mail unique case-insensitively."""
    email = normalize_email(email)
    if User.find_by_email(email) is not None:
        raise UserError(f"a user with e-mail {email} already exists")
    if password is not None:
        password_hash = hash_password(settings, password)
    user = User(email=email, email_verified=verified, password_hash=password_hash,
                attributes=dict(attributes or {}), status="enabled")
    if user_id:
        user.id = user_id
    user.groups = [get_or_create_group(g) for g in dict.fromkeys(groups)]
    db.session.add(user)
    return user


def describe_user(user: User) -> dict:
    """Public description (never hashes or secrets)."""
    return {
        "id": user.id, "email": user.email, "email_verified": user.email_verified,
        "status": user.status, "mfa_enabled": user.totp_enabled,
        "groups": [g.name for g in user.groups], "attributes": user.attributes,
        "created_at": user.created_at.isoformat() if user.created_at else None,
        "last_login_at": user.last_login_at.isoformat() if user.last_login_at else None,
    }
