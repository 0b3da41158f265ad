"""/password/forgot and /password/reset: a code by e-mail (the same answer for every address),
then a new password; a reset ends all sessions and revokes the refresh tokens."""

from __future__ import annotations

from flask import flash, request, url_for
from flask_babel import gettext as _

from app.accounts.codes import CodeError
from app.accounts.password_reset import reset_password, start_password_reset
from app.extensions import frontdesk_state
from app.hosted.blueprint import bp
from app.hosted.forms import ForgotForm, ResetForm
from app.hosted.messages import CODE_ERRORS
from app.hosted.pages import interaction_id, origin, page_interaction, render_page, see_other
from app.oauth.interaction import end_everything
from app.sessions import current_login, end_login_session


@bp.route("/password/forgot", methods=["GET", "POST"])
def password_forgot():
    page_interaction()
    form = ForgotForm(interaction=interaction_id())
    if form.validate_on_submit():
        state = frontdesk_state()
        flow_id = start_password_reset(state.settings, state.store, form.email.data)
        return see_other(url_for("hosted.password_reset", flow=flow_id,
                                 interaction=interaction_id()))
    return render_page("hosted/password_forgot.html", form=form)


@bp.route("/password/reset", methods=["GET", "POST"])
def password_reset():
    page_interaction()
    form = ResetForm(flow=request.values.get("flow", "")[:64], interaction=interaction_id())
    if request.method == "GET" and request.args.get("code"):
        form.code.data = request.args["code"][:16]
    error = None
    if form.validate_on_submit():
        state = frontdesk_state()
        try:
            user = reset_password(state.settings, state.store, form.flow.data, form.code.data,
                                  form.password.data, origin())
        except CodeError as exc:
            error = CODE_ERRORS[exc.reason]
        else:
            end_everything(user.id)
            if (login := current_login()) and login.user_id == user.id:
                end_login_session()
            flash(_("Your password is changed, and you are signed out everywhere. Sign in "
                    "with your new password."), "success")
            return see_other(url_for("hosted.login", interaction=interaction_id()))
    return render_page("hosted/password_reset.html", form=form, error=error,
                       sent=request.method == "GET" and not request.args.get("code"))
