"""Admin API: the audit log (every admin change, plus what the flows record), newest first."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.admin.auth import require_scope
from app.admin.blueprint import bp, json_response
from app.admin.bodies import decode_cursor, encode_cursor, query_params
from app.admin.openapi import AUDIT_QUERY, PAGE_QUERY
from app.admin.problems import Problem
from app.extensions import db
from app.models import AuditEvent


def event_resource(event: AuditEvent) -> dict[str, Any]:
    return {"id": event.id, "type": event.type, "created_at": event.created_at.isoformat(),
            "user_id": event.user_id, "client_id": event.client_id, "actor": event.actor,
            "ip": event.ip, "details": dict(event.details or {})}


def _moment(args: dict, name: str) -> datetime | None:
    if name not in args:
        return None
    try:
        moment = datetime.fromisoformat(args[name])
    except ValueError:
        raise Problem(400, "Bad Request", "Invalid query parameters.",
                      errors={name: "must be an ISO 8601 date-time"}) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _filtered(stmt, args: dict):
    kind = args.get("type")
    if kind:
        stmt = stmt.where(AuditEvent.type.startswith(kind, autoescape=True)
                          if kind.endswith(".") else AuditEvent.type == kind)
    for name in ("user_id", "client_id"):
        if args.get(name):
            stmt = stmt.where(getattr(AuditEvent, name) == args[name])
    since, until = _moment(args, "since"), _moment(args, "until")
    if since:
        stmt = stmt.where(AuditEvent.created_at >= since)
    if until:
        stmt = stmt.where(AuditEvent.created_at < until)
    return stmt


@bp.get("/audit-events")
@require_scope("admin:audit:read")
def list_audit_events():
    args = query_params(AUDIT_QUERY | PAGE_QUERY)
    key, limit = decode_cursor(args.get("cursor"), int), args.get("limit", 50)
    stmt = _filtered(db.select(AuditEvent), args).order_by(AuditEvent.id.desc())
    if key:
        stmt = stmt.where(AuditEvent.id < key[0])
    events = db.session.scalars(stmt.limit(limit + 1)).all()
    more = len(events) > limit
    return json_response({"events": [event_resource(e) for e in events[:limit]],
                          "next_cursor": encode_cursor(events[limit - 1].id) if more else None})
