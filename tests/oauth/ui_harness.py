"""A test-only stand-in for the hosted pages, driving the real interaction API.

It is not a mock of the protocol: it calls exactly what the hosted pages call
(start_login_session, finish, abort). Until app/hosted serves /login and /consent, the
harness also answers those endpoint names with a placeholder page so that the protocol's
url_for("hosted.login") works; with the real hosted pages present it adds nothing there.
"""

from __future__ import annotations

from flask import Blueprint, Flask, abort, jsonify, redirect, request, session

from app.extensions import csrf
from app.oauth.interaction import (
    ConsentResult,
    LoginResult,
    finish,
    load_interaction,
)
from app.oauth.interaction import abort as abort_interaction
from app.sessions import current_login, start_login_session

bp = Blueprint("harness", __name__)


@bp.post("/_harness/signin")
def signin():
    """Sign the browser in without an interaction (optionally as if it happened earlier)."""
    start_login_session(request.form["user_id"], request.form.get("amr", "pwd").split())
    if request.form.get("auth_time"):
        session["auth_time"] = int(request.form["auth_time"])
    return "", 204


@bp.post("/_harness/login")
def login():
    """What /login does on success: start the session, finish the interaction."""
    amr = request.form.get("amr", "pwd").split()
    state = start_login_session(request.form["user_id"], amr)
    url = finish(request.form["interaction"], LoginResult(
        sub=request.form["user_id"], amr=amr, auth_time=state.auth_time,
        acr=request.form.get("acr")))
    return redirect(url or "/_harness/gone", 303)


@bp.post("/_harness/consent")
def consent():
    """What /consent does: allow (some of) the scopes, or deny."""
    ix_id = request.form["interaction"]
    if request.form.get("decision") == "deny":
        url = abort_interaction(ix_id, "access_denied", "The user said no.")
    else:
        ix = load_interaction(ix_id)
        scopes = request.form.getlist("scope") or (ix.scopes if ix else [])
        url = finish(ix_id, ConsentResult(scopes=scopes))
    return redirect(url or "/_harness/gone", 303)


@bp.post("/_harness/abort")
def abort_view():
    url = abort_interaction(request.form["interaction"], request.form["error"],
                            request.form.get("description"))
    return redirect(url or "/_harness/gone", 303)


@bp.get("/_harness/interaction/<interaction_id>")
def show_interaction(interaction_id):
    ix = load_interaction(interaction_id)
    if ix is None:
        abort(404)
    return jsonify(ix.__dict__)


@bp.get("/_harness/whoami")
def whoami():
    login = current_login()
    return jsonify(user_id=login.user_id if login else None)


def _placeholder():
    return f"hosted page placeholder for interaction {request.args.get('interaction')}"


def install_harness(app: Flask) -> None:
    app.register_blueprint(bp)
    csrf.exempt(bp)
    for endpoint, rule in (("hosted.login", "/login"), ("hosted.consent", "/consent")):
        if endpoint not in app.view_functions:
            app.add_url_rule(rule, endpoint, _placeholder)
