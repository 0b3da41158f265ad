"""Self sign-up with a 6-digit code by e-mail, and e-mail verification of existing accounts.

The account is created only when the code is confirmed: until then the sign-up waits in the
store (password already hashed), so nobody can pre-register someone else's address. Signing up
with an address that has an account looks the same from outside: a (dummy) flow is started and
the owner gets an "account exists" mail instead of a code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError

from app.accounts.attributes import merge_attributes, validate_signup_attributes
from app.accounts.codes import (
    CodeError,
    CodeFlow,
    live_flow,
    load_flow,
    reissue_code,
    start_flow,
    verify_code,
)
from app.accounts.notify import send_account_mail
from app.accounts.origin import Origin
from app.accounts.passwords import hash_password
from app.accounts.throttle import mail_allowed, mail_cooldown_active
from app.accounts.users import create_user
from app.config import Settings
from app.extensions import db
from app.mail import issuer_url
from app.models import User, record_event
from app.models._types import new_id
from app.store import Store
from app.triggers import run_trigger

PURPOSE = "signup"  # shared by sign-up and verification of an existing account


@dataclass(frozen=True)
class SignupRequest:
    email: str  # already normalized
    password: str  # already checked against the policy
    attributes: dict[str, Any] = field(default_factory=dict)  # as typed; checked here


@dataclass(frozen=True)
class SignupStarted:
    flow_id: str | None  # None when the pre_sign_up trigger confirmed the account at once
    user_id: str | None = None


def start_signup(settings: Settings, store: Store, request: SignupRequest,
                 origin: Origin) -> SignupStarted:
    """Start a sign-up; raises AttributeValidationError (nothing stored, nothing sent) for
    attribute values the rules refuse, TriggerAbort when pre_sign_up rejects it."""
    attributes = merge_attributes({}, validate_signup_attributes(
        settings, request.attributes, origin.client_id))
    answer = run_trigger("pre_sign_up", {"email": request.email, "attributes": attributes,
                                         "client_id": origin.client_id}) or {}
    password_hash = hash_password(settings, request.password)  # same work for both branches
    if User.find_by_email(request.email) is not None:
        flow, _ = start_flow(store, settings, PURPOSE, request.email, {"kind": "dummy"},
                             real=False)
        send_exists_mail(settings, store, request.email)
        return SignupStarted(flow.id)
    if answer.get("auto_confirm") or answer.get("auto_verify_email"):
        user = _create_account(settings, request.email, password_hash, attributes, origin,
                               method="trigger")
        if user is not None:
            run_trigger("post_confirmation", {"user_id": user.id, "email": user.email,
                                              "client_id": origin.client_id})
        return SignupStarted(None, user.id if user else None)
    user_id = new_id()  # the account's sub, known before confirmation (the pool API says it)
    flow, code = start_flow(store, settings, PURPOSE, request.email, {
        "kind": "signup", "password_hash": password_hash, "attributes": attributes,
        "client_id": origin.client_id, "user_id": user_id})
    if mail_allowed(store, settings, request.email, PURPOSE):
        send_code_mail(settings, flow, code)
    return SignupStarted(flow.id, user_id)


def send_code_mail(settings: Settings, flow: CodeFlow, code: str) -> None:
    link = issuer_url(settings, "hosted.signup_confirm", flow=flow.id, code=code)
    send_account_mail("verify_email", flow.email, code=code, link=link,
                      minutes=settings.code_ttl_seconds // 60)


def send_exists_mail(settings: Settings, store: Store, email: str) -> None:
    if mail_allowed(store, settings, email, PURPOSE):
        send_account_mail("account_exists", email, link=issuer_url(settings, "hosted.login"),
                          reset_link=issuer_url(settings, "hosted.password_forgot"))


def start_email_verification(settings: Settings, store: Store, user: User) -> str:
    """A code to confirm an existing account's address (login of an unverified user)."""
    current = live_flow(store, PURPOSE, user.email)
    if current and current.data.get("user_id") == user.id and \
            mail_cooldown_active(store, user.email, PURPOSE):
        return current.id  # the code mailed a moment ago still works
    flow, code = start_flow(store, settings, PURPOSE, user.email,
                            {"kind": "verify", "user_id": user.id})
    if mail_allowed(store, settings, user.email, PURPOSE):
        send_code_mail(settings, flow, code)
    return flow.id


def resend_code(settings: Settings, store: Store, flow_id: str | None) -> bool:
    """A new code for a live flow; False while the address is in its cool-down."""
    flow = load_flow(store, PURPOSE, flow_id)
    if flow is None:
        raise CodeError("expired")
    if not mail_allowed(store, settings, flow.email, PURPOSE):
        return False
    code = reissue_code(store, settings, flow)
    if flow.is_dummy:
        send_account_mail("account_exists", flow.email, link=issuer_url(settings, "hosted.login"),
                          reset_link=issuer_url(settings, "hosted.password_forgot"))
    else:
        send_code_mail(settings, flow, code)
    return True


def confirm_signup(settings: Settings, store: Store, flow_id: str | None, code: str | None,
                   origin: Origin) -> User:
    """Consume the code and create (or verify) the account; raises CodeError."""
    flow = verify_code(store, settings, PURPOSE, flow_id, code)
    if flow.data.get("kind") == "verify":
        user = db.session.get(User, flow.data.get("user_id", ""))
        if user is None:
            raise CodeError("expired")
        user.email_verified = True
        record_event("email_verified", user_id=user.id, client_id=origin.client_id,
                     ip=origin.ip)
        db.session.commit()
    else:
        user = _create_account(settings, flow.email, flow.data["password_hash"],
                               flow.data.get("attributes", {}), origin, method="code",
                               user_id=flow.data.get("user_id"))
        if user is None:
            raise CodeError("expired")
    run_trigger("post_confirmation", {"user_id": user.id, "email": user.email,
                                      "client_id": origin.client_id})
    return user


def _create_account(settings: Settings, email: str, password_hash: str, attributes: dict,
                    origin: Origin, method: str, user_id: str | None = None) -> User | None:
    """The new, verified account; None when the address got an account meanwhile."""
    if User.find_by_email(email) is not None:
        return None
    user = create_user(settings, email=email, password=None, password_hash=password_hash,
                       verified=True, attributes=attributes, user_id=user_id)
    db.session.flush()
    record_event("signup", user_id=user.id, client_id=origin.client_id, ip=origin.ip,
                 method=method)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    return user
