"""Error responses built in one place: JSON for API paths, a friendly page elsewhere."""

from __future__ import annotations

from flask import Flask, Response, jsonify, render_template, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from app.store import StoreUnavailable

JSON_PREFIXES = ("/oauth2/", "/.well-known/", "/admin/api/", "/healthz", "/readyz")


def wants_json() -> bool:
    if request.path.startswith(JSON_PREFIXES) and request.path != "/oauth2/authorize":
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > \
        request.accept_mimetypes["text/html"]


def error_response(status: int, error: str, description: str) -> Response:
    """A JSON error or the error page, with no-store caching."""
    if wants_json():
        response = jsonify(error=error, error_description=description)
    else:
        response = Response(render_template(
            "error.html", status=status, error=error, description=description))
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _http_error(exc: HTTPException):
    if exc.code and exc.code >= 500:
        return error_response(exc.code, "server_error", "The server could not answer.")
    name = (exc.name or "error").lower().replace(" ", "_")
    response = error_response(exc.code or 400, name, exc.description or "")
    if exc.code == 405 and exc.valid_methods:
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response


def _unavailable(exc: Exception):
    return error_response(503, "temporarily_unavailable",
                          "The service is temporarily unavailable. Please try again.")


def _server_error(exc: InternalServerError):
    return error_response(500, "server_error", "Something went wrong on our side.")


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(StoreUnavailable, _unavailable)
    app.register_error_handler(OperationalError, _unavailable)
    app.register_error_handler(InternalServerError, _server_error)
