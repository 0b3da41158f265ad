"""Server-side browser sessions on the ephemeral store.

The cookie carries only a random id (256 bits). The data lives in the store under
`sess:<id>` with a TTL equal to the idle timeout; `_created_at` enforces the absolute
timeout. Each signed-in user's session ids are indexed under `user_sessions:<user id>` so
that all of them can be ended at once (password reset, "sign out everywhere").
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from flask import Flask, Request, Response, session
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from app.extensions import frontdesk_state
from app.store import Store

TOUCH_INTERVAL_SECONDS = 60
INTERNAL_KEYS = ("_created_at", "_touched_at")


def _new_sid() -> str:
    return secrets.token_urlsafe(32)


def _data_key(sid: str) -> str:
    return f"sess:{sid}"


def _index_key(user_id: str) -> str:
    return f"user_sessions:{user_id}"


class ServerSession(CallbackDict, SessionMixin):
    def __init__(self, initial=None, sid: str | None = None, new: bool = False):
        def on_update(_self):
            _self.modified = True

        super().__init__(initial, on_update)
        self.sid = sid
        self.new = new
        self.modified = False
        self.previous_sid: str | None = None
        self.destroyed = False

    def regenerate(self) -> None:
        """Give this session a new id (the data moves with it): login, MFA, logout."""
        if self.sid and not self.previous_sid:
            self.previous_sid = self.sid
        self.sid = _new_sid()
        self.modified = True

    def destroy(self) -> None:
        """Forget every value and the id."""
        self.clear()
        self.regenerate()
        self.destroyed = True


class StoreSessionInterface(SessionInterface):
    def _store(self, app: Flask) -> Store:
        return frontdesk_state(app).store

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        settings = frontdesk_state(app).settings
        sid = request.cookies.get(settings.session_cookie_name)
        if sid and 20 <= len(sid) <= 128:
            data = self._store(app).get_json(_data_key(sid))
            if data and time.time() - data.get("_created_at", 0) < settings.session_absolute_seconds:
                return ServerSession(data, sid=sid)
            if data:
                self._store(app).delete(_data_key(sid))
        return ServerSession(sid=None, new=True)

    def save_session(self, app: Flask, sess: ServerSession, response: Response) -> None:
        settings = frontdesk_state(app).settings
        store = self._store(app)
        name = settings.session_cookie_name
        if sess.previous_sid:
            store.delete(_data_key(sess.previous_sid))
        has_values = any(k not in INTERNAL_KEYS for k in sess)
        if not has_values:
            if sess.sid and not sess.new:
                store.delete(_data_key(sess.sid))
                response.delete_cookie(name, path="/", httponly=True, samesite="Lax",
                                       secure=settings.is_https)
            return
        now = time.time()
        if sess.sid is None:
            sess.sid = _new_sid()
        fresh = sess.new or sess.previous_sid is not None
        if fresh or "_created_at" not in sess:
            dict.__setitem__(sess, "_created_at", now)
        stale = now - sess.get("_touched_at", 0) > TOUCH_INTERVAL_SECONDS
        if not (sess.modified or fresh or stale):
            return
        dict.__setitem__(sess, "_touched_at", now)
        remaining = settings.session_absolute_seconds - (now - sess["_created_at"])
        ttl = int(max(1, min(settings.session_idle_seconds, remaining)))
        store.set_json(_data_key(sess.sid), dict(sess), ttl)
        if sess.get("uid"):
            store.set_add(_index_key(sess["uid"]), sess.sid, settings.session_absolute_seconds)
        response.set_cookie(
            name, sess.sid, max_age=int(max(1, remaining)), path="/", httponly=True,
            samesite="Lax", secure=settings.is_https)
        response.vary.add("Cookie")


@dataclass(frozen=True)
class LoginState:
    """Who is signed in to this browser, and how."""

    user_id: str
    auth_time: int
    amr: tuple[str, ...]
    acr: str | None


def current_login() -> LoginState | None:
    uid = session.get("uid")
    if not uid:
        return None
    return LoginState(uid, int(session.get("auth_time", 0)), tuple(session.get("amr", ())),
                      session.get("acr"))


def start_login_session(user_id: str, amr: list[str], acr: str | None = None) -> LoginState:
    """Mark this browser as signed in; the session id is rotated (no fixation)."""
    session.regenerate()
    session["uid"] = user_id
    session["auth_time"] = int(time.time())
    session["amr"] = list(amr)
    session["acr"] = acr
    return current_login()


def end_login_session() -> None:
    """Sign this browser out: forget the session's data and id."""
    uid = session.get("uid")
    old = session.sid
    session.destroy()
    if uid and old:
        frontdesk_state().store.set_remove(_index_key(uid), old)


def end_user_sessions(store: Store, user_id: str) -> int:
    """End every browser session of a user; returns how many were found."""
    sids = store.set_members(_index_key(user_id))
    if sids:
        store.delete(*(_data_key(s) for s in sids))
    store.delete(_index_key(user_id))
    return len(sids)
