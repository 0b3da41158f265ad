"""RFC 9457 problem details: every error of the admin API is application/problem+json."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, Response, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from app.store import StoreUnavailable

PROBLEM_TYPE = "application/problem+json"
API_PREFIX = "/admin/api/"
VALIDATION = "urn:frontdesk:problem:validation-error"
MALFORMED = "urn:frontdesk:problem:malformed-request"
CONFLICT = "urn:frontdesk:problem:conflict"
NOT_FOUND = "urn:frontdesk:problem:not-found"
UNAUTHORIZED = "urn:frontdesk:problem:unauthorized"
FORBIDDEN = "urn:frontdesk:problem:insufficient-scope"
UNAVAILABLE = "urn:frontdesk:problem:unavailable"


class Problem(Exception):  # noqa: N818 - RFC 9457's name
    """Raised by views; rendered by problem_response()."""

    def __init__(self, status: int, title: str, detail: str = "", *,
                 type_: str = "about:blank", errors: dict[str, str] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail or title)
        self.status, self.title, self.detail, self.type = status, title, detail, type_
        self.errors = errors or {}
        self.headers = headers or {}


def problem_response(problem: Problem) -> Response:
    body: dict[str, Any] = {"type": problem.type, "title": problem.title,
                            "status": problem.status}
    if problem.detail:
        body["detail"] = problem.detail
    body["instance"] = request.path
    if problem.errors:
        body["errors"] = problem.errors
    response = Response(json.dumps(body), status=problem.status, mimetype=PROBLEM_TYPE)
    response.headers["Cache-Control"] = "no-store"
    response.headers.update(problem.headers)
    return response


def validation_problem(errors: dict[str, str], detail: str = "") -> Problem:
    return Problem(422, "Unprocessable Content", detail or "The request body is not valid.",
                   type_=VALIDATION, errors=errors)


def not_found(what: str) -> Problem:
    return Problem(404, "Not Found", f"No such {what}.", type_=NOT_FOUND)


def conflict(detail: str) -> Problem:
    return Problem(409, "Conflict", detail, type_=CONFLICT)


def malformed(detail: str) -> Problem:
    return Problem(400, "Bad Request", detail, type_=MALFORMED)


def _from_http(exc: HTTPException) -> Response:
    status = exc.code or 500
    if status >= 500:
        return problem_response(Problem(status, "Internal Server Error",
                                        "Something went wrong on our side."))
    detail = {404: "No such resource.", 405: "Method not allowed on this resource.",
              413: "The request body is too large."}.get(status, "")
    response = problem_response(Problem(status, exc.name or "Error", detail))
    if status == 405 and getattr(exc, "valid_methods", None):
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response


def _unavailable(exc: Exception) -> Response:
    response = problem_response(Problem(503, "Service Unavailable",
                                        "Temporarily unavailable; retry later.",
                                        type_=UNAVAILABLE))
    response.headers["Retry-After"] = "5"
    return response


def register_problem_handlers(blueprint) -> None:
    """Once, at import: errors raised in the blueprint's views become problems."""
    blueprint.register_error_handler(Problem, problem_response)
    blueprint.register_error_handler(HTTPException, _from_http)
    blueprint.register_error_handler(StoreUnavailable, _unavailable)
    blueprint.register_error_handler(OperationalError, _unavailable)


def install_problem_handlers(app: Flask) -> None:
    """Per app: routing errors (404/405, raised before a blueprint is known) under
    /admin/api/ become problems too, by wrapping the app-wide HTTPException handler."""
    previous = app.error_handler_spec.get(None, {}).get(None, {}).get(HTTPException)

    def handle_http_error(exc: HTTPException):
        if request.path.startswith(API_PREFIX):
            return _from_http(exc)
        return previous(exc) if previous else exc

    app.register_error_handler(HTTPException, handle_http_error)
