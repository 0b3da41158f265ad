"""/login: e-mail and password, then the second factor or the finish of the interaction."""

from __future__ import annotations

from flask import request, url_for

from app.accounts.authentication import check_password_login
from app.accounts.signup import start_email_verification
from app.extensions import frontdesk_state
from app.hosted.blueprint import bp
from app.hosted.federation_buttons import federation_buttons
from app.hosted.flow import after_password
from app.hosted.forms import LoginForm
from app.hosted.messages import GENERIC_LOGIN_ERROR
from app.hosted.pages import interaction_id, origin, page_interaction, render_page, see_other
from app.hosted.signup import remember_flow
from app.sessions import current_login
from app.triggers import TriggerAbort


@bp.route("/login", methods=["GET", "POST"])
def login():
    interaction = page_interaction()
    if request.method == "GET" and interaction is None and current_login():
        return see_other(url_for("hosted.account"))
    form = LoginForm(interaction=interaction_id())
    if request.method == "GET" and interaction and interaction.login_hint:
        form.email.data = interaction.login_hint
    error = None
    if form.validate_on_submit():
        response, error = _attempt(form)
        if response is not None:
            return response
    return render_login(form, error)


def _attempt(form: LoginForm):
    state = frontdesk_state()
    try:
        check = check_password_login(state.settings, state.store, form.email.data,
                                     form.password.data, origin())
    except TriggerAbort as exc:
        return None, str(exc)
    if check.status == "failed":
        return None, GENERIC_LOGIN_ERROR
    if check.status == "unverified":
        flow_id = start_email_verification(state.settings, state.store, check.user)
        remember_flow(flow_id)
        return see_other(url_for("hosted.signup_confirm", flow=flow_id,
                                 interaction=interaction_id(), verify=1)), None
    return after_password(check.user, interaction_id()), None


def render_login(form: LoginForm, error=None):
    settings = frontdesk_state().settings
    return render_page("hosted/login.html", form=form, error=error,
                       signup_enabled=settings.signup_enabled,
                       providers=federation_buttons(interaction_id()))
