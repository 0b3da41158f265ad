"""Discovery and JWKS straight from WSGI, before Flask (issue 7: "nothing computed per
request").

Relying parties and resource servers fetch these two documents constantly; both are
prebuilt bytes. Dispatching them through Flask (request context, session, CSRF, blueprint
hooks) cost more than node's whole request. This middleware answers a plain GET or HEAD of
either path from the bytes the views keep warm, with the same headers the views send, and
hands everything else to Flask unchanged: a request with an Origin (CORS needs the view), a
stale key ring (the reload reads the database inside an app context), a document not built
yet, any other method.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from flask import Flask
from werkzeug.http import parse_etags

from app.keys import JWKS_MAX_AGE_SECONDS

DISCOVERY_PATH = "/.well-known/openid-configuration"
JWKS_PATH = "/.well-known/jwks.json"


class FastLane:
    """WSGI middleware in front of `app.wsgi_app`."""

    def __init__(self, app: Flask, wsgi_app: Callable) -> None:
        self.app = app
        self.wsgi_app = wsgi_app

    def _document(self, path: str) -> tuple[bytes, str, int] | None:
        from app.oauth.discovery import DISCOVERY_MAX_AGE_SECONDS

        state = self.app.extensions["frontdesk"]
        if path == JWKS_PATH:
            jwks = state.keyring.fresh_jwks()
            return (*jwks, JWKS_MAX_AGE_SECONDS) if jwks else None
        built = state.extras.get("discovery")
        return (*built, DISCOVERY_MAX_AGE_SECONDS) if built else None

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO")
        method = environ.get("REQUEST_METHOD")
        if (path == JWKS_PATH or path == DISCOVERY_PATH) and method in ("GET", "HEAD") \
                and "HTTP_ORIGIN" not in environ:
            document = self._document(path)
            if document is not None:
                return self._answer(environ, start_response, method, *document)
        return self.wsgi_app(environ, start_response)

    @staticmethod
    def _answer(environ: dict, start_response: Callable, method: str, body: bytes, etag: str,
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
