"""Audit events: who did what, when, from where."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models._types import UTCDateTime, utcnow


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    type: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[str | None] = mapped_column(String(36), index=True)
    client_id: Mapped[str | None] = mapped_column(String(128))
    actor: Mapped[str | None] = mapped_column(String(200))
    ip: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


def record_event(type_: str, *, user_id: str | None = None, client_id: str | None = None,
                 actor: str | None = None, ip: str | None = None, **details: Any) -> AuditEvent:
    """Add an audit event to the current session (committed with the caller's work)."""
    event = AuditEvent(type=type_, user_id=user_id, client_id=client_id, actor=actor, ip=ip,
                       details=details)
    db.session.add(event)
    return event
