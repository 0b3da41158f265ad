"""Error responses built in one place: JSON for API paths, a friendly page elsewhere."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from markupsafe import escape
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException, InternalServerError

from app.store import StoreUnavailable

log = logging.getLogger(__name__)

JSON_PREFIXES = ("/oauth2/", "/.well-known/", "/admin/api/", "/healthz", "/readyz")


def wants_json() -> bool:
    if request.path.startswith(JSON_PREFIXES) and request.path != "/oauth2/authorize":
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > \
        request.accept_mimetypes["text/html"]


def error_response(status: int, error: str, description: str,
                   as_json: bool | None = None) -> Response:
    """A JSON error or the error page (as the request prefers unless `as_json` says),
    with no-store caching."""
    if as_json if as_json is not None else wants_json():
        response = jsonify(error=error, error_description=description)
    else:
        response = Response(_render_error_page(status, error, description))
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _render_error_page(status: int, error: str, description: str) -> str:
    """The themed page; a bare page when the theme itself cannot render (e.g. the
    database is down and a template needs it)."""
    try:
        return render_template("error.html", status=status, error=error,
                               description=description)
    except Exception:  # noqa: BLE001 - the error page must not fail in turn
        log.exception("error page could not be rendered")
        return (f"<!doctype html><title>Error</title><h1>{escape(description)}</h1>"
                f"<p>Error: {escape(error)} ({status})</p>")


def is_unavailable(exc: BaseException | None) -> bool:
    """A backend (database, store) did not answer: 503, not 500."""
    if isinstance(exc, StoreUnavailable | OperationalError | InterfaceError | PoolTimeoutError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def _http_error(exc: HTTPException):
    if exc.code and exc.code >= 500:
        return error_response(exc.code, "server_error", "The server could not answer.")
    name = (exc.name or "error").lower().replace(" ", "_")
    response = error_response(exc.code or 400, name, exc.description or "")
    if exc.code == 405 and exc.valid_methods:
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response


def _unavailable(exc: Exception):
    log.warning("backend unavailable: %s", exc.__class__.__name__)
    response = error_response(503, "temporarily_unavailable",
                              "The service is temporarily unavailable. Please try again.")
    response.headers["Retry-After"] = "5"
    return response


def _server_error(exc: InternalServerError):
    # Errors raised outside a view (opening or saving the session) arrive here wrapped.
    if is_unavailable(exc.original_exception):
        return _unavailable(exc.original_exception)
    return error_response(500, "server_error", "Something went wrong on our side.")


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    for unavailable in (StoreUnavailable, OperationalError, InterfaceError, PoolTimeoutError):
        app.register_error_handler(unavailable, _unavailable)
    app.register_error_handler(InternalServerError, _server_error)
