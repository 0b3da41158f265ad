"""Autocommit reads (app/readonly_db.py): fetch_rows gives what Connection.execute gives,
type conversions included, and a lost connection surfaces as SQLAlchemy's error."""

from __future__ import annotations

import pytest
from sqlalchemy import Integer, create_engine, literal_column, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from app.accounts.groups import add_member, create_group
from app.extensions import db
from app.models import User
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
