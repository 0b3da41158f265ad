"""Forgot / reset password: a 6-digit code and a link by e-mail, the same answer for every
address; a reset ends every session of the user (refresh tokens are revoked by the caller,
which may reach the protocol layer)."""

from __future__ import annotations

from app.accounts.codes import CodeError, live_flow, start_flow, verify_code
from app.accounts.lockout import clear_failures
from app.accounts.notify import send_account_mail
from app.accounts.origin import Origin
from app.accounts.passwords import hash_password
from app.accounts.throttle import mail_allowed, mail_cooldown_active
from app.accounts.users import UserError, normalize_email
from app.config import Settings
from app.extensions import db
from app.mail import issuer_url
from app.models import User, record_event
from app.sessions import end_user_sessions
from app.store import Store

PURPOSE = "reset"


def start_password_reset(settings: Settings, store: Store, email: str) -> str:
    """A reset flow id for any address; only an existing, enabled account gets a mail."""
    try:
        email = normalize_email(email)
    except UserError:
        email = (email or "").strip()[:320]
    user = User.find_by_email(email) if "@" in email else None
    real = user is not None and user.is_enabled
    current = live_flow(store, PURPOSE, email)
    if current and mail_cooldown_active(store, email, PURPOSE):
        return current.id  # the code mailed a moment ago still works
    flow, code = start_flow(store, settings, PURPOSE, email,
                            {"user_id": user.id if real else None}, real=real)
    if mail_allowed(store, settings, email, PURPOSE) and real:  # cool-down for any address
        link = issuer_url(settings, "hosted.password_reset", flow=flow.id, code=code)
        send_account_mail("password_reset", user.email, code=code, link=link,
                          minutes=settings.code_ttl_seconds // 60)
    return flow.id


def reset_password(settings: Settings, store: Store, flow_id: str | None, code: str | None,
                   new_password: str, origin: Origin) -> User:
    """Consume the code and set the password (policy checked by the caller); raises CodeError.
    The address is verified by the same token, and every browser session ends."""
    flow = verify_code(store, settings, PURPOSE, flow_id, code)
    user = db.session.get(User, flow.data.get("user_id") or "")
    if user is None or not user.is_enabled:
        raise CodeError("expired")
    user.password_hash = hash_password(settings, new_password)
    user.email_verified = True
    record_event("password_reset", user_id=user.id, client_id=origin.client_id, ip=origin.ip)
    db.session.commit()
    clear_failures(store, user.email)
    end_user_sessions(store, user.id)
    send_account_mail("password_changed", user.email,
                      link=issuer_url(settings, "hosted.password_forgot"))
    return user
