"""Passwords as the pool API sets them: the policy of app.accounts.policy (refusals as
InvalidPasswordException), argon2id by app.accounts.passwords, and the SRP verifier made
while the password is at hand, sealed like TOTP secrets (it allows an offline guess)."""

from __future__ import annotations

from app.accounts.passwords import hash_password
from app.accounts.policy import check_password
from app.extensions import db, frontdesk_state
from app.models import PoolUser, User
from app.secretbox import SecretBoxError, seal, unseal
from app.userpool_api import srp
from app.userpool_api.errors import ApiError
from app.userpool_api.pool import user_pool_id

VERIFIER_PURPOSE = "userpool-srp-verifier"
POLICY_MESSAGES = {
    "too_short": "Password not long enough",
    "too_long": "Password is too long",
    "missing_lower": "Password must have lowercase characters",
    "missing_upper": "Password must have uppercase characters",
    "missing_digit": "Password must have numeric characters",
    "missing_symbol": "Password must have symbol characters",
    "common": "Password is too common",
    "is_email": "Password must not be the username",
}


def require_policy(password: str, email: str | None) -> None:
    violations = check_password(frontdesk_state().settings, password, email)
    if violations:
        reasons = ", ".join(POLICY_MESSAGES.get(v.rule, v.rule) for v in violations)
        raise ApiError("InvalidPasswordException",
                       f"Password did not conform with policy: {reasons}")


def pool_user(user_id: str) -> PoolUser:
    """The user's pool row, added to the session when there is none yet."""
    row = db.session.get(PoolUser, user_id)
    if row is None:
        row = PoolUser(user_id=user_id, force_password_change=False)
        db.session.add(row)
    return row


def sealed_verifier(user_id: str, password: str) -> str:
    settings = frontdesk_state().settings
    pool_name = user_pool_id(settings).partition("_")[2]
    salt, verifier = srp.make_verifier(pool_name, user_id, password)
    return seal(settings.secret_key, VERIFIER_PURPOSE, f"{pool_name}:{salt}:{verifier}")


def read_verifier(row: PoolUser | None) -> tuple[str, str] | None:
    """(salt, verifier) for this pool, or None (none made, or made for another pool id)."""
    if row is None or not row.srp_verifier:
        return None
    settings = frontdesk_state().settings
    try:
        pool_name, salt, verifier = unseal(settings.secret_key, VERIFIER_PURPOSE,
                                           row.srp_verifier).split(":")
    except (SecretBoxError, ValueError):
        return None
    if pool_name != user_pool_id(settings).partition("_")[2]:
        return None
    return salt, verifier


def set_password(user: User, password: str) -> None:
    """Policy, hash and verifier; the caller records, commits and ends sessions."""
    require_policy(password, user.email)
    user.password_hash = hash_password(frontdesk_state().settings, password)
    pool_user(user.id).srp_verifier = sealed_verifier(user.id, password)


def ensure_verifier(user: User, password: str) -> None:
    """A password just accepted by sign-in: make the verifier a user without one lacks
    (imported users, users made before the API). Committed at once."""
    row = db.session.get(PoolUser, user.id)
    if read_verifier(row) is not None:
        return
    pool_user(user.id).srp_verifier = sealed_verifier(user.id, password)
    db.session.commit()
