"""/account: change password, MFA on/off, new recovery codes, linked social accounts,
sign out of all devices. Every change is a POST with its own small form; sensitive ones ask
for the current password again."""

from __future__ import annotations

from flask import flash, url_for
from flask_babel import gettext as _

from app.accounts.lockout import is_locked, record_failure
from app.accounts.mfa import disable_totp
from app.accounts.notify import send_account_mail
from app.accounts.passwords import hash_password
from app.accounts.portability import verify_and_upgrade_password
from app.accounts.recovery_codes import generate_recovery_codes
from app.extensions import db, frontdesk_state
from app.hosted.blueprint import bp
from app.hosted.forms import ActionForm, ChangePasswordForm, DisableMfaForm, RecoveryCodesForm
from app.hosted.pages import client_ip, render_page, see_other
from app.mail import issuer_url
from app.models import FederatedIdentity, User, record_event
from app.oauth.interaction import end_everything
from app.sessions import current_login, end_login_session, start_login_session


def wrong_password() -> str:
    return _("Your current password is not right.")


def signed_in_user() -> User | None:
    login = current_login()
    user = db.session.get(User, login.user_id) if login else None
    return user if user is not None and user.is_enabled else None


def _identities(user: User) -> list[FederatedIdentity]:
    return list(db.session.scalars(db.select(FederatedIdentity).where(
        FederatedIdentity.user_id == user.id).order_by(FederatedIdentity.created_at)))


def can_unlink(user: User, identities: list[FederatedIdentity]) -> bool:
    """Never remove the last way to sign in."""
    return bool(user.password_hash) or len(identities) > 1


def describe_account(user: User) -> dict:
    """What the page shows, as plain values."""
    return {"email": user.email, "name": (user.attributes or {}).get("name"),
            "email_verified": user.email_verified, "mfa_enabled": user.totp_enabled,
            "has_password": bool(user.password_hash),
            "recovery_left": len(user.recovery_code_hashes or [])}


def describe_identities(identities: list[FederatedIdentity]) -> list[dict]:
    return [{"id": i.id, "provider": i.provider, "email": i.email} for i in identities]


def render_account(user: User, **forms):
    identities = _identities(user)
    forms.setdefault("password_form", ChangePasswordForm(formdata=None))
    forms.setdefault("mfa_form", DisableMfaForm(formdata=None))
    forms.setdefault("codes_form", RecoveryCodesForm(formdata=None))
    return render_page(
        "hosted/account.html", account=describe_account(user),
        action_form=ActionForm(formdata=None), identities=describe_identities(identities),
        unlink_allowed=can_unlink(user, identities),
        mfa_policy=frontdesk_state().settings.mfa_policy, **forms)


def _password_ok(user: User, password: str) -> bool:
    """The current password, with the login lockout guarding against guessing here too; a
    legacy hash is upgraded to argon2id (the caller commits)."""
    state = frontdesk_state()
    if is_locked(state.store, user.email):
        return False
    if verify_and_upgrade_password(state.settings, user, password):
        return True
    record_failure(state.store, state.settings, user.email)
    return False


@bp.get("/account")
def account():
    user = signed_in_user()
    if user is None:
        return see_other(url_for("hosted.login"))
    return render_account(user)


@bp.post("/account/password")
def account_password():
    user = signed_in_user()
    if user is None:
        return see_other(url_for("hosted.login"))
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return render_account(user, password_form=form)
    if not _password_ok(user, form.current_password.data):
        form.current_password.errors.append(wrong_password())
        return render_account(user, password_form=form)
    user.password_hash = hash_password(frontdesk_state().settings, form.new_password.data)
    record_event("password_changed", user_id=user.id, ip=client_ip())
    db.session.commit()
    amr = list(current_login().amr)
    end_everything(user.id)  # other browsers and apps sign in again
    start_login_session(user.id, amr)
    send_account_mail("password_changed", user.email,
                      link=issuer_url(frontdesk_state().settings, "hosted.password_forgot"))
    flash(_("Your password is changed. Other devices were signed out."), "success")
    return see_other(url_for("hosted.account"))


@bp.post("/account/mfa/disable")
def account_mfa_disable():
    user = signed_in_user()
    if user is None:
        return see_other(url_for("hosted.login"))
    form = DisableMfaForm()
    if frontdesk_state().settings.mfa_policy == "required":
        flash(_("Two-step verification is required here and cannot be turned off."), "error")
        return see_other(url_for("hosted.account"))
    if not form.validate_on_submit():
        return render_account(user, mfa_form=form)
    if not _password_ok(user, form.mfa_password.data):
        form.mfa_password.errors.append(wrong_password())
        return render_account(user, mfa_form=form)
    disable_totp(user)
    record_event("mfa_disabled", user_id=user.id, ip=client_ip())
    db.session.commit()
    flash(_("Two-step verification is off."), "success")
    return see_other(url_for("hosted.account"))


@bp.post("/account/recovery-codes")
def account_recovery_codes():
    user = signed_in_user()
    if user is None:
        return see_other(url_for("hosted.login"))
    form = RecoveryCodesForm()
    if not user.totp_enabled or not form.validate_on_submit():
        return render_account(user, codes_form=form)
    if not _password_ok(user, form.codes_password.data):
        form.codes_password.errors.append(wrong_password())
        return render_account(user, codes_form=form)
    codes = generate_recovery_codes(user)
    record_event("recovery_codes_regenerated", user_id=user.id, ip=client_ip())
    db.session.commit()
    return render_page("hosted/recovery_codes.html", codes=codes,
                       continue_url=url_for("hosted.account"), first_time=False)


@bp.post("/account/linked/<int:identity_id>/unlink")
def account_unlink(identity_id: int):
    user = signed_in_user()
    if user is None or not ActionForm().validate_on_submit():
        return see_other(url_for("hosted.login" if user is None else "hosted.account"))
    identities = _identities(user)
    identity = next((i for i in identities if i.id == identity_id), None)
    if identity is None or not can_unlink(user, identities):
        flash(_("This is your only way to sign in, so it cannot be removed. Set a password "
                "first."), "error")
        return see_other(url_for("hosted.account"))
    db.session.delete(identity)
    record_event("federated_identity_unlinked", user_id=user.id, ip=client_ip(),
                 provider=identity.provider)
    db.session.commit()
    flash(_("The account is unlinked."), "success")
    return see_other(url_for("hosted.account"))


@bp.post("/account/sessions/end")
def account_signout_all():
    user = signed_in_user()
    if user is None or not ActionForm().validate_on_submit():
        return see_other(url_for("hosted.login" if user is None else "hosted.account"))
    end_login_session()
    end_everything(user.id)
    record_event("signed_out_everywhere", user_id=user.id, ip=client_ip())
    db.session.commit()
    return see_other(url_for("hosted.logout"))
