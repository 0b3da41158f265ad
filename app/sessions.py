"""Server-side browser sessions on the ephemeral store.

The cookie carries only a random id (256 bits). The data lives in the store under
`sess:<id>` with a TTL equal to the idle timeout (capped by what is left of the absolute
timeout); `_created_at` (reset at login) enforces the absolute timeout, `_touched_at` the
idle one. Each signed-in user's session ids are indexed under `user_sessions:<user id>` so
that all of them can be ended at once (password reset, "sign out everywhere", disable).

The session is loaded from the store on first use, not per request: /healthz, JWKS or the
token endpoint never wait for the store, and a request that does not use the session does
not count as activity for the idle timeout.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from flask import Flask, Request, Response, current_app, has_app_context, session
from flask.sessions import SessionInterface, SessionMixin

from app.extensions import frontdesk_state
from app.store import Store

TOUCH_INTERVAL_SECONDS = 60  # rewrite an unchanged session at most this often
INTERNAL_KEYS = ("_created_at", "_touched_at")
SID_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")
ENDED_MARKER_FALLBACK_SECONDS = 400 * 86400


def _new_sid() -> str:
    return secrets.token_urlsafe(32)


def _data_key(sid: str) -> str:
    return f"sess:{sid}"


def _index_key(user_id: str) -> str:
    return f"user_sessions:{user_id}"


def _ended_key(user_id: str) -> str:
    return f"user_sessions_ended:{user_id}"


class ServerSession(SessionMixin):
    """Flask's `session`: a dict loaded from the store on first access."""

    def __init__(self, load: Callable[[], dict | None] | None = None,
                 sid: str | None = None) -> None:
        self._load = load
        self._data: dict[str, Any] | None = None if load else {}
        self.sid = sid
        self.cookie_sid = sid  # the id the browser sent (None: no usable cookie)
        self.new = sid is None
        self.modified = False
        self.accessed = False
        self.previous_sid: str | None = None
        self.loaded_uid: str | None = None
        self.clock_restarted = False

    @property
    def data(self) -> dict[str, Any]:
        self.accessed = True
        if self._data is None:
            loaded = self._load() if self._load else None
            if loaded is None:  # gone, expired or ended: start afresh under a new id
                self.sid, self.new, loaded = None, True, {}
            self._data = loaded
            self.loaded_uid = loaded.get("uid")
        return self._data

    @property
    def loaded(self) -> bool:
        return self._data is not None

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.data[key] = value
        self.modified = True

    def __delitem__(self, key: str) -> None:
        del self.data[key]
        self.modified = True

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def regenerate(self) -> None:
        """Give this session a new id (the data moves with it): login, MFA, logout."""
        self.data  # noqa: B018 - load before the id changes, so the data moves along
        if self.sid and not self.previous_sid:
            self.previous_sid = self.sid
        self.sid = _new_sid()
        self.modified = True

    def restart_clock(self) -> None:
        """The absolute timeout counts from now (called at login)."""
        self.clock_restarted = True
        self.modified = True

    def destroy(self) -> None:
        """Forget every value and the id."""
        self.regenerate()
        self.data.clear()


class StoreSessionInterface(SessionInterface):
    def open_session(self, app: Flask, request: Request) -> ServerSession:
        settings = frontdesk_state(app).settings
        sid = request.cookies.get(settings.session_cookie_name)
        if not sid or not SID_PATTERN.fullmatch(sid):
            return ServerSession()
        return ServerSession(lambda: self._load(app, sid), sid)

    def _load(self, app: Flask, sid: str) -> dict | None:
        state = frontdesk_state(app)
        settings, store = state.settings, state.store
        data = store.get_json(_data_key(sid))
        if not isinstance(data, dict):
            return None
        now = time.time()
        created = data.get("_created_at", 0)
        too_old = now - created >= settings.session_absolute_seconds
        idle = now - data.get("_touched_at", created) >= settings.session_idle_seconds
        if too_old or idle or self._ended(store, data.get("uid"), created):
            store.delete(_data_key(sid))
            return None
        return data

    @staticmethod
    def _ended(store: Store, uid: str | None, created: float) -> bool:
        """Were this user's sessions ended after this one began (end_user_sessions)?"""
        if not uid:
            return False
        ended = store.get(_ended_key(uid))
        return ended is not None and float(ended) >= created

    def save_session(self, app: Flask, sess: ServerSession, response: Response) -> None:
        if sess.accessed:
            response.vary.add("Cookie")
        if not sess.loaded:
            return
        state = frontdesk_state(app)
        with state.store.batch() as store:  # a login's three writes: one round trip
            if sess.previous_sid:
                store.delete(_data_key(sess.previous_sid))
                if sess.loaded_uid:
                    store.set_remove(_index_key(sess.loaded_uid), sess.previous_sid)
            if not any(k not in INTERNAL_KEYS for k in sess.data):
                self._forget(store, sess, response, state.settings)
                return
            self._write(store, sess, response, state.settings)

    def _forget(self, store: Store, sess: ServerSession, response: Response, settings) -> None:
        """An emptied session: drop its data and the cookie."""
        if sess.sid and sess.sid == sess.cookie_sid:
            store.delete(_data_key(sess.sid))
            if sess.loaded_uid:
                store.set_remove(_index_key(sess.loaded_uid), sess.sid)
        if sess.cookie_sid:
            response.delete_cookie(settings.session_cookie_name, path="/", httponly=True,
                                   samesite="Lax", secure=settings.is_https)

    def _write(self, store: Store, sess: ServerSession, response: Response, settings) -> None:
        data, now = sess.data, time.time()
        if sess.sid is None:
            sess.sid = _new_sid()
        new_id = sess.sid != sess.cookie_sid
        if sess.clock_restarted or "_created_at" not in data:
            data["_created_at"] = now
        interval = min(TOUCH_INTERVAL_SECONDS, settings.session_idle_seconds / 4)
        stale = now - data.get("_touched_at", 0) >= interval
        if not (sess.modified or new_id or stale):
            return
        data["_touched_at"] = now
        remaining = settings.session_absolute_seconds - (now - data["_created_at"])
        store.set_json(_data_key(sess.sid), data,
                       max(0.001, min(settings.session_idle_seconds, remaining)))
        uid = data.get("uid")
        if uid and (new_id or uid != sess.loaded_uid):
            store.set_add(_index_key(uid), sess.sid, settings.session_absolute_seconds)
        if new_id:
            response.set_cookie(
                settings.session_cookie_name, sess.sid, max_age=max(1, int(remaining)),
                path="/", httponly=True, samesite="Lax", secure=settings.is_https)


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
    """Mark this browser as signed in; the session id is rotated (no fixation) and the
    absolute timeout starts now."""
    session.regenerate()
    session.restart_clock()
    session["uid"] = user_id
    session["auth_time"] = int(time.time())
    session["amr"] = list(amr)
    session["acr"] = acr
    return current_login()


def end_login_session() -> None:
    """Sign this browser out: forget the session's data and id."""
    session.destroy()


def end_user_sessions(store: Store, user_id: str, ttl_seconds: float | None = None) -> int:
    """End every browser session of a user; returns how many were found.

    Besides deleting the indexed sessions, a marker makes any session of the user that
    began before now invalid, so a request in flight cannot write its session back.
    """
    if ttl_seconds is None:
        ttl_seconds = (frontdesk_state(current_app).settings.session_absolute_seconds
                       if has_app_context() else ENDED_MARKER_FALLBACK_SECONDS)
    store.set(_ended_key(user_id), repr(time.time()), ttl_seconds)
    sids = store.set_members(_index_key(user_id))
    store.delete(_index_key(user_id), *(_data_key(s) for s in sids))
    return len(sids)
