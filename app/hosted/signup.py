"""/signup and /signup/confirm: a 6-digit code by e-mail, then the account exists.

When the confirmation happens in the browser that started the sign-up (or the login of an
unverified account), the user is signed in and the interaction goes on; from another browser
(the link in the mail) the page asks them to sign in.
"""

from __future__ import annotations

from flask import flash, request, session, url_for
from flask_babel import gettext as _

from app.accounts.attributes import AttributeValidationError, signup_attributes
from app.accounts.codes import CodeError
from app.accounts.signup import SignupRequest, confirm_signup, resend_code, start_signup
from app.extensions import db, frontdesk_state
from app.hosted.blueprint import bp
from app.hosted.flow import after_password
from app.hosted.forms import ConfirmForm, ResendForm, attribute_error, signup_form_class
from app.hosted.messages import CODE_ERRORS
from app.hosted.pages import interaction_id, origin, page_interaction, render_page, see_other
from app.models import User
from app.triggers import TriggerAbort

FLOWS_KEY = "fd_code_flows"  # flows started in this browser
MAX_REMEMBERED_FLOWS = 5


def remember_flow(flow_id: str) -> None:
    flows = [f for f in session.get(FLOWS_KEY, []) if f != flow_id]
    session[FLOWS_KEY] = (flows + [flow_id])[-MAX_REMEMBERED_FLOWS:]


def forget_flow(flow_id: str) -> bool:
    """True when this browser started the flow."""
    flows = session.get(FLOWS_KEY, [])
    if flow_id not in flows:
        return False
    session[FLOWS_KEY] = [f for f in flows if f != flow_id]
    return True


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    page_interaction()
    settings = frontdesk_state().settings
    if not settings.signup_enabled:
        return render_page("hosted/signup_disabled.html", http_status=403)
    specs = signup_attributes(settings, origin().client_id)
    form = signup_form_class(specs)(interaction=interaction_id())
    error = None
    if form.validate_on_submit():
        try:
            return _start(form)
        except TriggerAbort as exc:
            error = str(exc)
        except AttributeValidationError as exc:
            error = show_attribute_errors(form, exc.errors)
    return render_page("hosted/signup.html", form=form, error=error,
                       extra_fields=[form[key] for key in form.attribute_specs])


def show_attribute_errors(form, errors: dict[str, str]):
    """Tie each refused value to its field; a message for anything without one."""
    keys = {spec.name: key for key, spec in form.attribute_specs.items()}
    for name in errors:
        if name not in keys:
            return _("This sign-up cannot be completed. Please contact support.")
        field = form[keys[name]]
        field.errors = [*field.errors, attribute_error(form.attribute_specs[keys[name]],
                                                       field.data)]
    return None


def _start(form):
    state = frontdesk_state()
    attributes = {spec.name: form[key].data for key, spec in form.attribute_specs.items()}
    request_ = SignupRequest(email=form.email.data, password=form.password.data,
                             attributes=attributes)
    started = start_signup(state.settings, state.store, request_, origin())
    if started.flow_id is None:  # confirmed at once by the pre_sign_up trigger
        user = db.session.get(User, started.user_id) if started.user_id else None
        if user is not None:
            return after_password(user, interaction_id())
        return see_other(url_for("hosted.login", interaction=interaction_id()))
    remember_flow(started.flow_id)
    return see_other(url_for("hosted.signup_confirm", flow=started.flow_id,
                             interaction=interaction_id()))


@bp.route("/signup/confirm", methods=["GET", "POST"])
def signup_confirm():
    page_interaction()
    flow_id = request.values.get("flow", "")[:64]
    form = ConfirmForm(flow=flow_id, interaction=interaction_id())
    resend = ResendForm(flow=flow_id, interaction=interaction_id(), formdata=None)
    if request.method == "GET" and request.args.get("code"):
        form.code.data = request.args["code"][:16]
    error = notice = None
    if request.method == "POST" and request.form.get("action") == "resend":
        notice, error = _resend(flow_id)
    elif form.validate_on_submit():
        response, error = _confirm(flow_id, form.code.data)
        if response is not None:
            return response
    return render_page("hosted/signup_confirm.html", form=form, resend=resend, error=error,
                       notice=notice, verify=bool(request.values.get("verify")))


def _resend(flow_id: str):
    state = frontdesk_state()
    try:
        sent = resend_code(state.settings, state.store, flow_id)
    except CodeError as exc:
        return None, CODE_ERRORS[exc.reason]
    if not sent:
        return None, _("Please wait a minute before asking for a new code.")
    return _("We sent a new code. It replaces the previous one."), None


def _confirm(flow_id: str, code: str):
    state = frontdesk_state()
    try:
        user = confirm_signup(state.settings, state.store, flow_id, code, origin())
    except CodeError as exc:
        return None, CODE_ERRORS[exc.reason]
    if forget_flow(flow_id):
        return after_password(user, interaction_id()), None
    flash(_("Your e-mail address is confirmed. Sign in to continue."), "success")
    return see_other(url_for("hosted.login", interaction=interaction_id())), None
