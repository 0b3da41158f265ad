"""Federation endpoints: /federation/<provider>/start, .../callback, /federation/link, and
for SAML providers .../acs and .../metadata."""

from __future__ import annotations

import time

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import lazy_gettext as _l

from app.extensions import db, frontdesk_state
from app.federation import flow, linking, saml_flow, throttle
from app.federation.flow import FlowError
from app.federation.forms import LinkForm
from app.federation.linking import LinkError, UpstreamIdentity
from app.federation.login import back_to_login, complete_login, login_url, show_message
from app.federation.oidc import UpstreamError
from app.federation.providers import Provider, configured_providers
from app.models import record_event
from app.oauth.interaction import load_interaction

bp = Blueprint("federation", __name__, url_prefix="/federation")

LINK_KEY = "fed_link"
LINK_TTL_SECONDS = 600
CANCELLED = _l("Sign-in with %(provider)s was cancelled. Choose another way to sign in.")
FAILED = _l("Sign-in with %(provider)s did not work. Please try again or choose another way.")
CANCEL_REASONS = ("upstream_access_denied", "upstream_user_cancelled_authorize")  # Apple's
TOO_MANY = _l("Too many attempts. Please wait a minute and try again.")
LOCKED = _l("Too many wrong passwords. Try again later.")
WRONG_PASSWORD = _l("That password is not right.")
EXPIRED = _l("This sign-in attempt has expired or was started in another browser. Please "
             "start again.")


def _provider(name: str) -> Provider:
    provider = configured_providers().get(name)
    if provider is None:
        abort(404)
    return provider


@bp.get("/<provider>/start")
def start(provider: str):
    upstream = _provider(provider)
    interaction_id = request.args.get("interaction") or None
    interaction = load_interaction(interaction_id) if interaction_id else None
    if interaction_id and interaction is None:
        return show_message(400, EXPIRED)
    begin = saml_flow.begin_login if upstream.saml else flow.begin_login
    try:
        url = begin(upstream, interaction_id, interaction.client_id if interaction else None)
    except UpstreamError as exc:
        current_app.logger.warning("federation %s: start failed: %s", upstream.name, exc)
        return back_to_login(interaction_id, FAILED % {"provider": upstream.label})
    return redirect(url, 303)


def _saml_provider(name: str) -> Provider:
    provider = _provider(name)
    if provider.saml is None:
        abort(404)
    return provider


@bp.get("/<provider>/metadata")
def saml_metadata(provider: str):
    """Our SP metadata, to paste into (or let be fetched by) the IdP."""
    upstream = _saml_provider(provider)
    return saml_flow.sp_metadata(upstream), 200, {
        "Content-Type": "application/samlmetadata+xml; charset=utf-8",
        "Content-Disposition": f'inline; filename="{upstream.name}-sp-metadata.xml"'}


@bp.post("/<provider>/acs")
def saml_acs_post(provider: str):
    """The IdP's HTTP-POST: cross-site, so no session cookie; park it, rejoin with a GET."""
    upstream = _saml_provider(provider)
    key = saml_flow.park_post(upstream, request.form.get("SAMLResponse"),
                              request.form.get("RelayState"))
    if key is None:
        current_app.logger.info("federation %s: SAML response for no pending login",
                                upstream.name)
        return show_message(400, EXPIRED)
    return redirect(url_for(".saml_acs", provider=upstream.name, state=key), 303)


@bp.get("/<provider>/acs")
def saml_acs(provider: str):
    upstream = _saml_provider(provider)
    try:
        pending = saml_flow.take_pending(upstream, request.args.get("state"))
    except FlowError as exc:
        current_app.logger.info("federation %s: ACS rejected: %s", upstream.name, exc)
        return show_message(400, EXPIRED)
    try:
        accepted = saml_flow.accept(upstream, pending)
    except UpstreamError as exc:
        _record_failure(upstream, exc)
        return show_message(400, FAILED % {"provider": upstream.label}, pending.interaction_id)
    return _sign_in(upstream, accepted.identity, pending.interaction_id, pending.client_id)


@bp.post("/<provider>/callback")
def callback_form_post(provider: str):
    """Apple's form_post: cross-site, so no session cookie; park it and rejoin with a GET."""
    upstream = _provider(provider)
    if not upstream.uses_form_post:
        abort(405)
    state = flow.park_form_post(upstream, request.form.to_dict())
    if state is None:
        return show_message(400, EXPIRED)
    return redirect(url_for(".callback", provider=upstream.name, state=state), 303)


@bp.get("/<provider>/callback")
def callback(provider: str):
    upstream = _provider(provider)
    try:
        pending = flow.take_pending(upstream, request.args.get("state"))
    except FlowError as exc:
        current_app.logger.info("federation %s: callback rejected: %s", upstream.name, exc)
        return show_message(400, EXPIRED)
    try:
        identity = flow.authenticate(upstream, pending, pending.response or request.args.to_dict())
    except UpstreamError as exc:
        return _upstream_failed(upstream, pending.interaction_id, exc)
    return _sign_in(upstream, identity, pending.interaction_id, pending.client_id)


def _record_failure(upstream, exc: UpstreamError) -> None:
    """Every refused upstream answer (OIDC, OAuth 2.0 or SAML) is logged and audited alike."""
    current_app.logger.warning("federation %s: %s", upstream.name, exc.reason)
    record_event("federation.failed", ip=request.remote_addr, provider=upstream.name,
                 reason=exc.reason)
    db.session.commit()


def _upstream_failed(upstream: Provider, interaction_id: str | None, exc: UpstreamError):
    _record_failure(upstream, exc)
    template = CANCELLED if exc.reason in CANCEL_REASONS else FAILED
    return back_to_login(interaction_id, template % {"provider": upstream.label})


def _sign_in(upstream: Provider, identity: UpstreamIdentity, interaction_id: str | None,
             client_id: str | None):
    settings = frontdesk_state().settings
    try:
        resolution = linking.resolve_user(settings, upstream, identity, client_id=client_id,
                                          ip=request.remote_addr)
    except LinkError as exc:
        current_app.logger.info("federation %s: %s", upstream.name, exc.reason)
        return back_to_login(interaction_id, exc.message)
    if resolution.link_candidate is not None:
        session[LINK_KEY] = {
            "provider": upstream.name, "user_id": resolution.link_candidate.id,
            "identity": identity.__dict__, "interaction_id": interaction_id,
            "client_id": client_id, "created_at": time.time()}
        return redirect(url_for(".link", interaction=interaction_id), 303)
    return complete_login(resolution.user, ["fed"], interaction_id, client_id)


def _pending_link() -> dict | None:
    data = session.get(LINK_KEY)
    if not data or time.time() - data.get("created_at", 0) > LINK_TTL_SECONDS:
        return None
    if data["provider"] not in configured_providers():
        return None
    return data


@bp.route("/link", methods=["GET", "POST"])
def link():
    """Ask for the existing account's password once before linking the upstream identity."""
    pending = _pending_link()
    if pending is None:
        session.pop(LINK_KEY, None)
        return show_message(400, EXPIRED)
    upstream = configured_providers()[pending["provider"]]
    form = LinkForm(interaction=pending["interaction_id"] or "")
    if form.validate_on_submit():
        response = _check_link_password(upstream, pending, form)
        if response is not None:
            return response
    status = 400 if form.errors else 200
    return render_template(
        "federation/link.html", form=form, provider_label=upstream.label,
        email=pending["identity"]["email"], has_password=_has_password(pending),
        login_url=login_url(pending["interaction_id"])), status


def _has_password(pending: dict) -> bool:
    return linking.account_has_password(pending["user_id"])


def _check_link_password(upstream: Provider, pending: dict, form: LinkForm):
    """The next response after a password attempt, or None to show the form with an error."""
    if throttle.ip_over_limit(request.remote_addr):
        return show_message(429, TOO_MANY)
    email = linking.account_email(pending["user_id"])
    if email is None or throttle.account_locked(email):
        form.password.errors.append(LOCKED)
        return None
    identity = UpstreamIdentity(**pending["identity"])
    try:
        user = linking.link_with_password(frontdesk_state().settings, upstream, identity,
                                          pending["user_id"], form.password.data,
                                          ip=request.remote_addr)
    except LinkError as exc:
        session.pop(LINK_KEY, None)
        return back_to_login(pending["interaction_id"], exc.message)
    if user is None:
        throttle.record_failure(email)
        form.password.errors.append(WRONG_PASSWORD)
        return None
    throttle.clear_failures(email)
    session.pop(LINK_KEY, None)
    return complete_login(user, ["fed", "pwd"], pending["interaction_id"], pending["client_id"])
