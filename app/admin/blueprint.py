"""The `admin` blueprint (JSON only, CSRF-exempt: bearer tokens, no cookies) and its
response helper."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, json

from app.admin.problems import register_problem_handlers

bp = Blueprint("admin", __name__, url_prefix="/admin/api/v1")
register_problem_handlers(bp)


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None
                  ) -> Response:
    response = Response(json.dumps(data), status=status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    response.headers.update(headers or {})
    return response


def no_content() -> Response:
    response = Response(status=204)
    response.headers["Cache-Control"] = "no-store"
    return response
