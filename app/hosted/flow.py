"""The end of every way in (password, MFA, sign-up confirmation): the second factor when
the user has one (or must enrol), then the login session and the interaction's conclusion.

Between the password and the second factor the user is *pending*: known in this browser's
session, not signed in, for at most PENDING_SECONDS.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from flask import Response, session, url_for
from sqlalchemy import bindparam, insert, update

from app.extensions import db, frontdesk_state
from app.hosted.pages import loaded_interaction, origin, render_page, see_other
from app.models import AuditEvent, User
from app.oauth.interaction import LoginResult, conclude, finish
from app.readonly_db import autocommit_connection
from app.sessions import start_login_session
from app.triggers import run_trigger

PENDING_KEY = "fd_pending"
PENDING_SECONDS = 600
AMR_PASSWORD = ["pwd"]
AMR_TOTP = ["pwd", "otp", "mfa"]  # RFC 8176: password, one-time password, multiple factors
AMR_RECOVERY = ["pwd", "mfa"]


def set_pending(user: User, interaction_id: str | None, *, enroll: bool = False) -> None:
    session.regenerate()  # a new id once the password is known (no fixation)
    session[PENDING_KEY] = {"uid": user.id, "interaction": interaction_id, "enroll": enroll,
                            "expires_at": time.time() + PENDING_SECONDS}


def with_first_factor(pending: dict, second: list[str]) -> list[str]:
    """The amr of a completed two-step login: the first factor the pending state records
    (["pwd"], or ["fed"] after a federated login) followed by the second factor's values."""
    first = list(pending.get("amr") or AMR_PASSWORD)
    return first + [value for value in second if value not in AMR_PASSWORD + first]


def pending_user() -> tuple[User | None, dict]:
    """The user between password and second factor, or (None, {})."""
    pending = session.get(PENDING_KEY) or {}
    if not pending or pending.get("expires_at", 0) < time.time():
        session.pop(PENDING_KEY, None)
        return None, {}
    user = db.session.get(User, pending["uid"])
    if user is None or not user.is_enabled:
        session.pop(PENDING_KEY, None)
        return None, {}
    return user, pending


def after_password(user: User, interaction_id: str | None) -> Response:
    """Password (or e-mail code) accepted: second factor, enrolment, or done."""
    policy = frontdesk_state().settings.mfa_policy
    if policy != "off" and user.totp_enabled:
        set_pending(user, interaction_id)
        return see_other(url_for("hosted.mfa", interaction=interaction_id))
    if policy == "required":
        set_pending(user, interaction_id, enroll=True)
        return see_other(url_for("hosted.mfa_setup", interaction=interaction_id))
    return complete_login(user, AMR_PASSWORD, interaction_id)


def sign_in(user: User, amr: list[str]) -> int:
    """Start the login session; returns auth_time. The user's id and e-mail are read before
    the commit, which expires the row (no second SELECT for the trigger)."""
    session.pop(PENDING_KEY, None)
    user_id, email = user.id, user.email
    state = start_login_session(user_id, amr)
    where = origin()
    _record_login(user_id, where.client_id, where.ip, amr)
    db.session.commit()
    run_trigger("post_authentication", {"user_id": user_id, "email": email,
                                        "client_id": where.client_id, "amr": list(amr)})
    return state.auth_time


_USERS, _EVENTS = User.__table__, AuditEvent.__table__
#: updated_at set to itself: a login is not a change of the user's information, and the
#: column's onupdate would otherwise move it (app.models.users).
_LOGIN_AT = update(_USERS).where(_USERS.c.id == bindparam("user_id")).values(
    updated_at=_USERS.c.updated_at)
_AUDIT = insert(_EVENTS)
#: PostgreSQL: both in one statement, the UPDATE as a data-modifying CTE (one round trip).
#: Every value is an explicitly named parameter: SQLAlchemy would otherwise apply execute
#: parameters named like a column (created_at) to the UPDATE in the CTE too.
_LOGIN_AT_AND_AUDIT = insert(_EVENTS).values(
    created_at=bindparam("at", type_=_EVENTS.c.created_at.type), type="login_success",
    user_id=bindparam("uid", type_=_USERS.c.id.type),
    client_id=bindparam("client", type_=_EVENTS.c.client_id.type), actor=None,
    ip=bindparam("addr", type_=_EVENTS.c.ip.type),
    details=bindparam("amr_details", type_=_EVENTS.c.details.type),
).add_cte(update(_USERS).where(_USERS.c.id == bindparam("uid", type_=_USERS.c.id.type))
          .values(last_login_at=bindparam("at", type_=_USERS.c.last_login_at.type),
                  updated_at=_USERS.c.updated_at).cte("touched"))


def _record_login(user_id: str, client_id: str | None, ip: str | None, amr: list[str]) -> None:
    """users.last_login_at and the login_success audit event: the rows record_event() and
    an ORM flush would write, as Core statements (every login pays this; the unit of work
    costs more than the round trips). PostgreSQL: one statement on an autocommit connection;
    SQLite: two on the request's transaction, which sign_in commits."""
    now, details = datetime.now(UTC), {"amr": list(amr)}
    if db.engine.dialect.name == "postgresql":  # one atomic statement: no transaction needed
        with autocommit_connection(db.engine) as conn:
            conn.execute(_LOGIN_AT_AND_AUDIT, {"at": now, "uid": user_id, "client": client_id,
                                               "addr": ip, "amr_details": details})
        return
    conn = db.session.connection()
    conn.execute(_LOGIN_AT, {"user_id": user_id, "last_login_at": now})
    conn.execute(_AUDIT, {"type": "login_success", "user_id": user_id, "client_id": client_id,
                          "actor": None, "ip": ip, "details": details})


def next_url(user_id: str, amr: list[str], auth_time: int,
             interaction_id: str | None) -> str | None:
    """Where a signed-in user goes: back to the protocol, or the account page. None: the
    interaction is gone."""
    if not interaction_id:
        return url_for("hosted.account")
    return finish(interaction_id, LoginResult(sub=user_id, amr=list(amr), auth_time=auth_time,
                                              acr=None), loaded=loaded_interaction())


def complete_login(user: User, amr: list[str], interaction_id: str | None) -> Response:
    """Signed in: straight on to what the protocol decides (the client with its code, or
    consent), or the account page without an interaction."""
    user_id = user.id  # before sign_in's commit expires the row
    auth_time = sign_in(user, amr)
    if not interaction_id:
        return see_other(url_for("hosted.account"))
    response = conclude(interaction_id, LoginResult(sub=user_id, amr=list(amr),
                                                    auth_time=auth_time, acr=None),
                        loaded=loaded_interaction())
    return response or render_page("hosted/expired.html", http_status=400)
