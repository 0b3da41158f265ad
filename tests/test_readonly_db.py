"""Autocommit statements (app/readonly_db.py): fetch_rows gives what Connection.execute
gives, for SELECTs and for INSERTs with or without RETURNING, type conversions of values and
rows included, and a failure (a lost connection, a duplicate key) surfaces as SQLAlchemy's
error."""

from __future__ import annotations

import pytest
from datetime import UTC, datetime

from sqlalchemy import Integer, create_engine, insert, literal_column, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.pool import NullPool

from app.accounts.groups import add_member, create_group
from app.extensions import db
from app.models import AuditEvent, User
from app.oauth.claims_subject import _QUERY
from app.readonly_db import attach_autocommit_engine, autocommit_connection, fetch_rows
from tests.conftest import TEST_DATABASE_URL
from tests.oauth.conftest import add_user

PG_URL = TEST_DATABASE_URL or "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def test_rows_and_conversions_match_connection_execute(app):
    user = add_user(app)
    with app.app_context():
        member = db.session.get(User, user["id"])
        member.attributes = {"locale": "de", "address": {"country": "DE"}}
        add_member(create_group("admins", precedence=2), member)
        add_member(create_group("staff"), member)
        db.session.commit()
        rows = fetch_rows(db.engine, _QUERY, {"user_id": user["id"]})
        with autocommit_connection(db.engine) as conn:
            expected = [tuple(r) for r in conn.execute(_QUERY, {"user_id": user["id"]})]
        assert sorted(rows, key=str) == sorted(expected, key=str) and len(rows) == 2
        first = rows[0]
        assert first[4] == {"locale": "de", "address": {"country": "DE"}}  # JSON decoded
        assert first[5].tzinfo is not None  # timezone-aware, as UTCDateTime promises
        assert first[2] is True
        assert fetch_rows(db.engine, _QUERY, {"user_id": "nobody"}) == []


_EVENTS = AuditEvent.__table__
_ADD_EVENT = insert(_EVENTS)
_ADD_EVENT_RETURNING = insert(_EVENTS).returning(_EVENTS.c.id, _EVENTS.c.created_at,
                                                 _EVENTS.c.details)
_EVENT_KEYS = ("created_at", "type", "user_id", "client_id", "actor", "ip", "details")


def _event(kind: str) -> dict:
    return {"created_at": datetime(2026, 11, 27, 6, 0, tzinfo=UTC), "type": kind,
            "user_id": None, "client_id": "web", "actor": None, "ip": "192.0.2.1",
            "details": {"amr": ["pwd"], "nested": {"n": 1}}}


def test_inserts_convert_values_and_returning_rows_as_connection_execute(app):
    with app.app_context():
        assert fetch_rows(db.engine, _ADD_EVENT, _event("plain"), _EVENT_KEYS) == []
        returned = fetch_rows(db.engine, _ADD_EVENT_RETURNING, _event("returning"),
                              _EVENT_KEYS)
        with autocommit_connection(db.engine) as conn:
            expected = conn.execute(_ADD_EVENT_RETURNING, _event("expected")).all()
        assert len(returned) == 1 and returned[0][0] + 1 == expected[0][0]
        assert returned[0][1:] == tuple(expected[0])[1:]
        assert returned[0][1] == datetime(2026, 11, 27, 6, 0, tzinfo=UTC)  # aware, UTC
        assert returned[0][2] == {"amr": ["pwd"], "nested": {"n": 1}}  # JSON both ways
        stored = {e.type: e for e in db.session.execute(select(AuditEvent)).scalars()}
        assert set(stored) >= {"plain", "returning", "expected"}
        assert stored["plain"].details == stored["expected"].details
        assert stored["plain"].created_at == stored["expected"].created_at


def test_a_duplicate_key_is_sqlalchemys_integrity_error(app):
    with app.app_context():
        (event_id, _, _), = fetch_rows(db.engine, _ADD_EVENT_RETURNING, _event("first"),
                                       _EVENT_KEYS)
        with pytest.raises(IntegrityError):
            fetch_rows(db.engine, _ADD_EVENT, _event("again") | {"id": event_id},
                       ("id", *_EVENT_KEYS))
        assert fetch_rows(db.engine, select(_EVENTS.c.type).where(
            _EVENTS.c.id == event_id), {}) == [("first",)]


ONE = select(literal_column("1", Integer).label("one"))


def test_a_lost_connection_is_sqlalchemys_error_and_the_next_call_reconnects():
    engine = create_engine(PG_URL, pool_size=1, max_overflow=0)
    sibling = attach_autocommit_engine(engine)
    try:
        assert fetch_rows(engine, ONE, {}) == [(1,)]
        with sibling.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        admin = create_engine(PG_URL, poolclass=NullPool)
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        admin.dispose()
        with pytest.raises(DBAPIError) as raised:
            fetch_rows(engine, ONE, {})
        assert raised.value.connection_invalidated
        assert fetch_rows(engine, ONE, {}) == [(1,)]
    finally:
        engine.dispose()
