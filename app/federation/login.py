"""How a federated login ends: back to /login with a notice, or signed in and resumed."""

from __future__ import annotations

import time

from flask import Response, redirect, render_template, session, url_for
from flask_babel import lazy_gettext as _l

from app.extensions import db, frontdesk_state
from app.models import User
from app.models._types import utcnow
from app.oauth.interaction import LoginResult, conclude, load_interaction
from app.sessions import start_login_session
from app.triggers import TriggerAbort, run_trigger

NOTICE_KEY = "fed_notice"
# The hosted pages' "between first and second factor" state (app/hosted/flow.py): /mfa and
# /mfa/setup read it. "amr" carries how the first factor was made.
PENDING_MFA_KEY = "fd_pending"
PENDING_MFA_SECONDS = 600
GONE = _l("Your sign-in request has expired. Go back to the app and sign in again.")


def login_url(interaction_id: str | None) -> str:
    if interaction_id:
        return url_for("hosted.login", interaction=interaction_id)
    return url_for("hosted.login")


def back_to_login(interaction_id: str | None, message: str) -> Response:
    """303 to the login page; the notice shows above the provider buttons there."""
    session[NOTICE_KEY] = str(message)
    return redirect(login_url(interaction_id), 303)


def pop_notice() -> str | None:
    return session.pop(NOTICE_KEY, None) if NOTICE_KEY in session else None


def show_message(status: int, message: str, interaction_id: str | None = None):
    page = render_template("federation/message.html", message=message,
                           login_url=login_url(interaction_id))
    return page, status, {"Cache-Control": "no-store"}


def complete_login(user: User, amr: list[str], interaction_id: str | None,
                   client_id: str | None) -> Response:
    """Sign the browser in as `user` and resume the authorization request, if any."""
    if interaction_id and load_interaction(interaction_id) is None:
        return show_message(400, GONE)  # checked first: no session for a request that is gone
    event = {"user_id": user.id, "email": user.email, "client_id": client_id}
    try:
        run_trigger("pre_authentication", event)
    except TriggerAbort as exc:
        return back_to_login(interaction_id, str(exc))
    second_factor = second_factor_step(user)
    if second_factor:
        return hand_over_to_mfa(user, amr, interaction_id, second_factor)
    login = start_login_session(user.id, amr)
    user.last_login_at = utcnow()
    db.session.commit()
    run_trigger("post_authentication", {**event, "amr": list(amr)})
    if not interaction_id:
        return redirect(url_for("hosted.account"), 303)
    response = conclude(interaction_id, LoginResult(sub=user.id, amr=list(amr),
                                                    auth_time=login.auth_time))
    return response or show_message(400, GONE)


def second_factor_step(user: User) -> str | None:
    """The hosted MFA page a federated login must pass, as for a password login."""
    policy = frontdesk_state().settings.mfa_policy
    if policy != "off" and user.totp_enabled:
        return "hosted.mfa"
    if policy == "required":
        return "hosted.mfa_setup"
    return None


def hand_over_to_mfa(user: User, amr: list[str], interaction_id: str | None,
                     endpoint: str) -> Response:
    """Leave the user pending (known, not signed in) and send them to the MFA page."""
    session.regenerate()
    session[PENDING_MFA_KEY] = {
        "uid": user.id, "interaction": interaction_id, "enroll": endpoint == "hosted.mfa_setup",
        "expires_at": time.time() + PENDING_MFA_SECONDS, "amr": list(amr)}
    return redirect(url_for(endpoint, interaction=interaction_id), 303)
