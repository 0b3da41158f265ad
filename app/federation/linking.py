"""Who a federated login is: find, link or create the user, under the linking rules.

A FederatedIdentity (provider, upstream subject) belongs to exactly one user. A new identity
is linked automatically to an existing account with the same e-mail ONLY when the upstream
asserts `email_verified` and the provider is trusted for e-mail; otherwise the user proves
the account is theirs with its password once. Taking over an account through an upstream
that lets anyone claim any address is the classic attack this prevents.
Every change (user, identity, attributes, audit) commits in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from app.accounts.portability import verify_and_upgrade_password
from app.accounts.users import UserError, create_user, normalize_email
from app.config import Settings
from app.extensions import db
from app.federation.mapping import map_attributes, merge_attributes
from app.federation.providers import Provider
from app.models import FederatedIdentity, User, record_event
from app.models._types import utcnow
from app.triggers import TriggerAbort, run_trigger


class LinkError(Exception):
    """The login cannot go on; `message` is safe to show, `reason` goes to the audit log."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message


ACCOUNT_UNAVAILABLE = _l("This account cannot sign in. Contact the administrator.")


@dataclass(frozen=True)
class UpstreamIdentity:
    """What a validated upstream ID token (plus userinfo) says about the user."""

    provider: str
    subject: str
    email: str | None
    email_verified: bool
    claims: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Resolution:
    """Either the user to sign in, or an existing account the user must prove is theirs."""

    user: User | None = None
    link_candidate: User | None = None
    created: bool = False


def find_identity(provider: str, subject: str) -> FederatedIdentity | None:
    return db.session.scalar(db.select(FederatedIdentity).where(
        FederatedIdentity.provider == provider, FederatedIdentity.subject == subject))


def resolve_user(settings: Settings, provider: Provider, identity: UpstreamIdentity, *,
                 client_id: str | None = None, ip: str | None = None) -> Resolution:
    """Find, auto-link or create the user of a validated upstream identity."""
    row = find_identity(provider.name, identity.subject)
    if row is not None:
        return Resolution(user=_returning_user(provider, identity, row, ip))
    if not identity.email:
        raise LinkError("no_email", _("%(provider)s did not share an e-mail address, which "
                                      "this service needs.", provider=provider.label))
    existing = User.find_by_email(identity.email)
    if existing is None:
        return Resolution(user=_create_user(settings, provider, identity, client_id, ip),
                          created=True)
    _require_enabled(existing)
    if identity.email_verified and provider.trust_email:
        link_identity(existing, provider, identity, method="verified_email", ip=ip)
        return Resolution(user=existing)
    return Resolution(link_candidate=existing)


def _require_enabled(user: User | None) -> User:
    if user is None or not user.is_enabled:
        raise LinkError("account_disabled", str(ACCOUNT_UNAVAILABLE))
    return user


def _returning_user(provider: Provider, identity: UpstreamIdentity, row: FederatedIdentity,
                    ip: str | None) -> User:
    user = _require_enabled(db.session.get(User, row.user_id))
    if provider.update_attributes_on_login:
        mapped = map_attributes(provider.attribute_mapping, identity.claims)
        user.attributes = merge_attributes(user.attributes, mapped, overwrite=True)
    row.email = identity.email
    row.last_login_at = utcnow()
    record_event("federation.login", user_id=user.id, ip=ip, provider=provider.name)
    _commit()
    return user


def _create_user(settings: Settings, provider: Provider, identity: UpstreamIdentity,
                 client_id: str | None, ip: str | None) -> User:
    if not settings.signup_enabled:
        raise LinkError("signup_disabled", _("New accounts cannot be created here. Ask the "
                                             "administrator for an invitation."))
    attributes = map_attributes(provider.attribute_mapping, identity.claims)
    try:
        answer = run_trigger("pre_sign_up", {"email": identity.email, "attributes": attributes,
                                             "client_id": client_id})
        verified = (identity.email_verified and provider.trust_email) or \
            bool(answer.get("auto_verify_email"))
        user = create_user(settings, email=identity.email, password=None, verified=verified,
                           attributes=attributes)
    except TriggerAbort as exc:
        db.session.rollback()
        raise LinkError("pre_sign_up_rejected", str(exc)) from None
    except UserError:
        db.session.rollback()
        raise LinkError("invalid_email", _("The e-mail address of this account is not "
                                           "usable here.")) from None
    db.session.flush()
    _add_identity(user, provider, identity)
    record_event("federation.signup", user_id=user.id, client_id=client_id, ip=ip,
                 provider=provider.name)
    _commit()
    return user


def link_identity(user: User, provider: Provider, identity: UpstreamIdentity, *, method: str,
                  ip: str | None = None) -> FederatedIdentity:
    """Attach the upstream identity to an existing user (first login through this provider):
    mapped attributes fill the user's gaps, or replace them if the provider updates on login."""
    mapped = map_attributes(provider.attribute_mapping, identity.claims)
    user.attributes = merge_attributes(user.attributes, mapped,
                                       overwrite=provider.update_attributes_on_login)
    row = _add_identity(user, provider, identity)
    record_event("federation.linked", user_id=user.id, ip=ip, provider=provider.name,
                 method=method)
    _commit()
    return row


def _add_identity(user: User, provider: Provider, identity: UpstreamIdentity) -> FederatedIdentity:
    row = FederatedIdentity(provider=provider.name, subject=identity.subject, user_id=user.id,
                            email=identity.email, last_login_at=utcnow())
    db.session.add(row)
    return row


def _commit() -> None:
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise LinkError("conflict", _("This sign-in could not be completed. Please try "
                                      "again.")) from None


def upstream_email(claims: dict[str, Any]) -> str | None:
    """The normalized e-mail claim, or None when absent or unusable."""
    raw = claims.get("email")
    if not isinstance(raw, str):
        return None
    try:
        return normalize_email(raw)
    except UserError:
        return None


def link_with_password(settings: Settings, provider: Provider, identity: UpstreamIdentity,
                       user_id: str, password: str, ip: str | None = None) -> User | None:
    """Link after the user proved the existing account is theirs; None on a wrong password."""
    user = _require_enabled(db.session.get(User, user_id))
    if not verify_and_upgrade_password(settings, user, password):
        record_event("federation.link_failed", user_id=user.id, ip=ip, provider=provider.name)
        db.session.commit()
        return None
    link_identity(user, provider, identity, method="password", ip=ip)
    return user


def account_has_password(user_id: str) -> bool:
    user = db.session.get(User, user_id)
    return bool(user and user.password_hash)


def account_email(user_id: str) -> str | None:
    user = db.session.get(User, user_id)
    return user.email if user else None
