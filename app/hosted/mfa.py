"""/mfa (second factor after the password) and /mfa/setup (TOTP enrolment + recovery codes)."""

from __future__ import annotations

from flask import abort, session, url_for
from flask_babel import gettext as _

from app.accounts.authentication import record_mfa_failure
from app.accounts.lockout import clear_failures, is_locked
from app.accounts.mfa import (
    enable_totp,
    new_totp_secret,
    provisioning_uri,
    read_totp_secret,
    verify_totp,
)
from app.accounts.recovery_codes import looks_like_recovery_code, use_recovery_code
from app.extensions import db, frontdesk_state
from app.hosted.blueprint import bp
from app.hosted.flow import (
    AMR_RECOVERY,
    AMR_TOTP,
    PENDING_KEY,
    complete_login,
    next_url,
    pending_user,
    sign_in,
    with_first_factor,
)
from app.hosted.forms import MfaForm, MfaSetupForm
from app.hosted.pages import interaction_id, origin, page_interaction, render_page, see_other
from app.hosted.qr import qr_svg
from app.models import User, record_event
from app.secretbox import seal, unseal
from app.sessions import current_login

SETUP_KEY = "fd_totp_setup"
SETUP_PURPOSE = "totp-setup"
ISSUER_NAME = "Frontdesk"


@bp.route("/mfa", methods=["GET", "POST"])
def mfa():
    page_interaction()
    user, pending = pending_user()
    if user is None or pending.get("enroll"):
        return see_other(url_for("hosted.login", interaction=interaction_id()))
    form = MfaForm(interaction=interaction_id())
    error = None
    if form.validate_on_submit():
        amr, error = _second_factor(user, form.code.data)
        if amr:
            return complete_login(user, with_first_factor(pending, amr), interaction_id())
    return render_page("hosted/mfa.html", form=form, error=error, email=user.email)


def _second_factor(user: User, code: str):
    """(amr, None) when the TOTP or a recovery code is right, else (None, message)."""
    state = frontdesk_state()
    if is_locked(state.store, user.email):
        session.pop(PENDING_KEY, None)
        return None, _("Too many wrong codes. Wait a few minutes, then sign in again.")
    secret = read_totp_secret(state.settings, user)
    if secret and verify_totp(state.store, secret, user.id, code):
        amr = AMR_TOTP
    elif looks_like_recovery_code(code) and use_recovery_code(state.store, user, code):
        amr = AMR_RECOVERY
        record_event("recovery_code_used", user_id=user.id, ip=origin().ip,
                     remaining=len(user.recovery_code_hashes))
        db.session.commit()
    else:
        if record_mfa_failure(state.settings, state.store, user, origin()):
            session.pop(PENDING_KEY, None)
            return None, _("Too many wrong codes. Wait a few minutes, then sign in again.")
        return None, _("That code is not right. Enter the current code from your app, or one "
                       "of your recovery codes.")
    clear_failures(state.store, user.email)
    return amr, None


def _setup_user() -> tuple[User | None, dict | None]:
    """Who enrols: the signed-in user, or a pending one whose policy forces enrolment
    (then the pending state comes along, for the first factor's amr)."""
    login = current_login()
    if login is not None:
        return db.session.get(User, login.user_id), None
    user, pending = pending_user()
    return (user, pending) if pending.get("enroll") else (None, None)


def _setup_secret() -> str:
    """The secret being enrolled, kept sealed in the session until it is confirmed."""
    settings = frontdesk_state().settings
    sealed = session.get(SETUP_KEY)
    if sealed:
        return unseal(settings.secret_key, SETUP_PURPOSE, sealed)
    secret = new_totp_secret()
    session[SETUP_KEY] = seal(settings.secret_key, SETUP_PURPOSE, secret)
    return secret


@bp.route("/mfa/setup", methods=["GET", "POST"])
def mfa_setup():
    page_interaction()
    state = frontdesk_state()
    if state.settings.mfa_policy == "off":
        abort(404)
    user, enrolling = _setup_user()
    if user is None:
        return see_other(url_for("hosted.login", interaction=interaction_id()))
    if user.totp_enabled and enrolling is None:
        return see_other(url_for("hosted.account"))
    secret = _setup_secret()
    form = MfaSetupForm(interaction=interaction_id())
    error = None
    if form.validate_on_submit():
        if verify_totp(state.store, secret, user.id, form.code.data):
            return _enrolled(user, secret, enrolling)
        error = _("That code is not right. Enter the code your app shows now.")
    return render_setup(form, user, secret, error)


def render_setup(form: MfaSetupForm, user: User, secret: str, error=None):
    uri = provisioning_uri(secret, user.email, ISSUER_NAME)
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    qr = qr_svg(uri, _("QR code for your authenticator app"))
    return render_page("hosted/mfa_setup.html", form=form, error=error, qr_svg=qr,
                       secret=secret, secret_grouped=grouped, email=user.email)


def _enrolled(user: User, secret: str, enrolling: dict | None):
    state = frontdesk_state()
    codes = enable_totp(state.settings, user, secret)
    record_event("mfa_enabled", user_id=user.id, ip=origin().ip, method="totp")
    db.session.commit()
    session.pop(SETUP_KEY, None)
    continue_url = url_for("hosted.account")
    if enrolling is not None:
        amr = with_first_factor(enrolling, AMR_TOTP)
        user_id = user.id  # before sign_in's commit expires the row
        auth_time = sign_in(user, amr)
        continue_url = next_url(user_id, amr, auth_time, interaction_id()) or continue_url
    return render_page("hosted/recovery_codes.html", codes=codes, continue_url=continue_url,
                       first_time=True)
