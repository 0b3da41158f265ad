"""Passkeys on the hosted pages: "Sign in with a passkey" on /login, and /account/passkeys
(add after a recent sign-in, rename, remove).

Each ceremony is two requests: a JSON POST for the options (static/passkeys.js asks with the
page's CSRF token), then an ordinary form post carrying the authenticator's answer, so the
end of a sign-in is the same redirect as after a password. The ceremony id sits in this
browser's session; the challenge itself waits in the store (app.accounts.passkeys).
"""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, flash, jsonify, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, StringField
from wtforms.validators import InputRequired, Length

from app.accounts.passkeys import (
    CREDENTIAL_MAX_CHARS,
    NAME_MAX,
    PasskeyError,
    describe_passkeys,
    find_user_passkey,
    finish_authentication,
    finish_registration,
    passkeys_off_warning,
    relying_party,
    rename_passkey,
    start_authentication,
    start_registration,
    user_passkeys,
)
from app.extensions import db, frontdesk_state
from app.hosted.account import signed_in_user
from app.hosted.blueprint import bp
from app.hosted.flow import complete_login
from app.hosted.forms import ActionForm, InteractionForm, LoginForm, PageForm
from app.hosted.login import render_login
from app.hosted.pages import client_ip, interaction_id, page_interaction, render_page, see_other
from app.models import FederatedIdentity, User, record_event
from app.sessions import current_login

log = logging.getLogger(__name__)
CEREMONY_KEY = "fd_passkey_ceremony"


class PasskeySignInForm(InteractionForm):
    credential = HiddenField("Credential", validators=[
        InputRequired(), Length(max=CREDENTIAL_MAX_CHARS)])


class PasskeyAddForm(PageForm):
    name = StringField(_l("Name of this passkey"), validators=[Length(max=NAME_MAX)])
    credential = HiddenField("Credential", validators=[
        InputRequired(), Length(max=CREDENTIAL_MAX_CHARS)])


class PasskeyRenameForm(PageForm):
    name = StringField(_l("New name"), validators=[InputRequired(), Length(max=NAME_MAX)])


def passkeys_enabled() -> bool:
    return relying_party(frontdesk_state().settings) is not None


def _options(purpose: str, started: tuple[str, str]) -> Response:
    ceremony, options = started
    session[CEREMONY_KEY] = {"purpose": purpose, "id": ceremony}
    response = Response(options, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


def _ceremony(purpose: str) -> str | None:
    """This browser's ceremony id for `purpose`, forgotten as it is read (single use)."""
    parked = session.pop(CEREMONY_KEY, None) or {}
    return parked.get("id") if parked.get("purpose") == purpose else None


def _refused(status: int, description: str) -> Response:
    response = jsonify(error="passkey_unavailable", error_description=description)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/passkeys/sign-in/options")
def passkey_sign_in_options():
    if not passkeys_enabled():
        return _refused(404, _("Passkeys are not available here."))
    state = frontdesk_state()
    return _options("authenticate", start_authentication(state.settings, state.store))


@bp.post("/passkeys/sign-in")
def passkey_sign_in():
    page_interaction()
    form = PasskeySignInForm()
    state = frontdesk_state()
    if passkeys_enabled() and form.validate_on_submit():
        try:
            signed = finish_authentication(state.settings, state.store,
                                           _ceremony("authenticate"), form.credential.data)
        except PasskeyError as exc:
            log.info("passkey sign-in refused: %s", exc)
        else:
            return complete_login(signed.user, signed.amr, interaction_id())
    return render_login(LoginForm(formdata=None, interaction=interaction_id()),
                        _("That passkey was not accepted. Try again, or sign in with your "
                          "password."))


def _recent(seconds: int) -> bool:
    login = current_login()
    return login is not None and time.time() - login.auth_time <= seconds


def _may_add() -> bool:
    settings = frontdesk_state().settings
    return passkeys_enabled() and _recent(settings.passkey_recent_sign_in_seconds)


def render_passkeys(user: User, add_form: PasskeyAddForm | None = None) -> Response:
    return render_page("hosted/passkeys.html", passkeys=describe_passkeys(user.id),
                       enabled=passkeys_enabled(), may_add=_may_add(),
                       add_form=add_form or PasskeyAddForm(formdata=None),
                       rename_form=PasskeyRenameForm(formdata=None),
                       action_form=ActionForm(formdata=None))


@bp.get("/account/passkeys")
def account_passkeys():
    user = signed_in_user()
    if user is None:
        return see_other(url_for("hosted.login"))
    return render_passkeys(user)


@bp.post("/account/passkeys/options")
def account_passkey_options():
    user = signed_in_user()
    if user is None or not _may_add():
        return _refused(403, _("Sign in again to add a passkey."))
    state = frontdesk_state()
    return _options("register", start_registration(state.settings, state.store, user))


@bp.post("/account/passkeys")
def account_passkey_add():
    user = signed_in_user()
    if user is None:
        return see_other(url_for("hosted.login"))
    form = PasskeyAddForm()
    if not _may_add() or not form.validate_on_submit():
        return render_passkeys(user, form)
    state = frontdesk_state()
    try:
        passkey = finish_registration(state.settings, state.store, _ceremony("register"), user,
                                      form.credential.data, form.name.data)
    except PasskeyError as exc:
        log.info("passkey registration refused: %s", exc)
        flash(_("The passkey was not added. Try again."), "error")
        return see_other(url_for("hosted.account_passkeys"))
    db.session.flush()
    record_event("passkey_added", user_id=user.id, ip=client_ip(), passkey_id=passkey.id)
    db.session.commit()
    flash(_("Your passkey is added."), "success")
    return see_other(url_for("hosted.account_passkeys"))


@bp.post("/account/passkeys/<int:passkey_id>/rename")
def account_passkey_rename(passkey_id: int):
    user = signed_in_user()
    if user is None:
        return see_other(url_for("hosted.login"))
    passkey = find_user_passkey(user.id, passkey_id)
    form = PasskeyRenameForm()
    if passkey is not None and form.validate_on_submit():
        rename_passkey(passkey, form.name.data)
        db.session.commit()
        flash(_("The passkey is renamed."), "success")
    return see_other(url_for("hosted.account_passkeys"))


def _other_way_in(user: User) -> bool:
    """Never remove the last way to sign in."""
    return bool(user.password_hash) or len(user_passkeys(user.id)) > 1 or bool(
        db.session.scalar(db.select(FederatedIdentity.id).where(
            FederatedIdentity.user_id == user.id).limit(1)))


@bp.post("/account/passkeys/<int:passkey_id>/remove")
def account_passkey_remove(passkey_id: int):
    user = signed_in_user()
    if user is None:
        return see_other(url_for("hosted.login"))
    passkey = find_user_passkey(user.id, passkey_id)
    if passkey is None or not ActionForm().validate_on_submit():
        return see_other(url_for("hosted.account_passkeys"))
    if not _other_way_in(user):
        flash(_("This is your only way to sign in, so it cannot be removed."), "error")
        return see_other(url_for("hosted.account_passkeys"))
    db.session.delete(passkey)
    record_event("passkey_removed", user_id=user.id, ip=client_ip(), passkey_id=passkey_id)
    db.session.commit()
    flash(_("The passkey is removed."), "success")
    return see_other(url_for("hosted.account_passkeys"))


def install_passkeys(app: Flask) -> None:
    """The templates' `passkeys_enabled()`, and a warning at start-up when this issuer
    rules passkeys out (the buttons are then hidden)."""
    app.add_template_global(passkeys_enabled, "passkeys_enabled")
    warning = passkeys_off_warning(frontdesk_state(app).settings)
    if warning:
        log.warning(warning)
