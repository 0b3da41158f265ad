"""Liveness and readiness probes."""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, jsonify
from sqlalchemy import text

from app.extensions import db, frontdesk_state

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """The process answers (touches neither the database nor the store)."""
    response = jsonify(status="ok")
    response.headers["Cache-Control"] = "no-store"
    return response


def _check_database() -> str | None:
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        log.warning("readiness: database down (%s)", exc.__class__.__name__)
        return exc.__class__.__name__
    return None


def _check_store() -> str | None:
    try:
        frontdesk_state().store.ping()
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        log.warning("readiness: store down (%s)", exc.__class__.__name__)
        return exc.__class__.__name__
    return None


@bp.get("/readyz")
def readyz():
    """Database and store reachable: 200; else 503 naming what is down."""
    checks = {"database": _check_database(), "store": _check_store()}
    down = [name for name, problem in checks.items() if problem]
    body = {"status": "ok" if not down else "unavailable", "down": down,
            "checks": {n: ("ok" if p is None else "down") for n, p in checks.items()}}
    response = jsonify(body)
    response.status_code = 503 if down else 200
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    from app.extensions import csrf

    csrf.exempt(bp)
