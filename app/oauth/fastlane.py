"""The hottest API requests answered straight from WSGI, before Flask's request machinery
(issue 7).

Relying parties and resource servers call discovery, JWKS and userinfo constantly.
Dispatching them through Flask (request context, session interface, CSRF, URL adapter,
blueprint hooks) cost more than node's whole request. This middleware answers:

- a plain GET or HEAD of discovery or JWKS, from the prebuilt bytes the views keep warm,
  with the headers the views send;
- a GET of userinfo with an `Authorization: Bearer` header, inside an app context, with
  the very function the view uses (app.oauth.userinfo.userinfo_for_token), errors included.

Everything else goes to Flask unchanged: any request with an Origin (CORS answers need the
view), other methods, a token in a form body, a stale key ring (its reload reads the
database), a document not built yet, and any exception (the view then answers, e.g. with
the 503 of an outage).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from flask import Flask
from werkzeug.http import parse_etags

from app.keys import JWKS_MAX_AGE_SECONDS

DISCOVERY_PATH = "/.well-known/openid-configuration"
JWKS_PATH = "/.well-known/jwks.json"
USERINFO_PATH = "/oauth2/userinfo"

logger = logging.getLogger(__name__)


class FastLane:
    """WSGI middleware in front of `app.wsgi_app`."""

    def __init__(self, app: Flask, wsgi_app: Callable) -> None:
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO")
        if "HTTP_ORIGIN" not in environ:
            method = environ.get("REQUEST_METHOD")
            if path == USERINFO_PATH and method == "GET":
                answer = self._userinfo(environ, start_response)
                if answer is not None:
                    return answer
            elif (path == JWKS_PATH or path == DISCOVERY_PATH) and method in ("GET", "HEAD"):
                document = self._document(path)
                if document is not None:
                    return _cached(environ, start_response, method, *document)
        return self.wsgi_app(environ, start_response)

    def _document(self, path: str) -> tuple[bytes, str, int] | None:
        from app.oauth.discovery import DISCOVERY_MAX_AGE_SECONDS

        state = self.app.extensions["frontdesk"]
        if path == JWKS_PATH:
            jwks = state.keyring.fresh_jwks()
            return (*jwks, JWKS_MAX_AGE_SECONDS) if jwks else None
        built = state.extras.get("discovery")
        return (*built, DISCOVERY_MAX_AGE_SECONDS) if built else None

    def _userinfo(self, environ: dict, start_response: Callable) -> Iterable[bytes] | None:
        from app.oauth.userinfo import userinfo_for_token

        scheme, _, token = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token \
                or environ.get("CONTENT_LENGTH") not in (None, "", "0"):
            return None
        try:
            with self.app.app_context():
                response = userinfo_for_token(token)
        except Exception:  # noqa: BLE001 - the view answers instead (outage: a clean 503)
            logger.debug("userinfo fast lane fell back to the view", exc_info=True)
            return None
        response.vary.add("Origin")  # as the view's CORS hook does
        return response(environ, start_response)


def _cached(environ: dict, start_response: Callable, method: str, body: bytes, etag: str,
            max_age: int) -> Iterable[bytes]:
    headers = [("ETag", etag), ("Cache-Control", f"public, max-age={max_age}"),
               ("Vary", "Origin")]
    if_none_match = environ.get("HTTP_IF_NONE_MATCH")
    if if_none_match and parse_etags(if_none_match).contains_weak(etag.strip('"')):
        start_response("304 NOT MODIFIED", headers)
        return []
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body))), *headers])
    return [] if method == "HEAD" else [body]


def install_fast_lane(app: Flask) -> None:
    app.wsgi_app = FastLane(app, app.wsgi_app)
