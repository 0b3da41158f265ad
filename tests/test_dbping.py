"""Idle-connection ping (app/dbping.py) against a real PostgreSQL: a pooled connection whose
server process was killed is replaced at checkout once it sat idle, without an error."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from app.dbping import install_idle_ping
from tests.conftest import TEST_DATABASE_URL

PG_URL = TEST_DATABASE_URL or "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _engine(idle_seconds: float):
    engine = create_engine(PG_URL, pool_size=1, max_overflow=0)
    install_idle_ping(engine, idle_seconds)
    return engine


def _kill_pooled_backend(engine) -> int:
    with engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    admin_engine = create_engine(PG_URL, poolclass=NullPool)
    with admin_engine.connect() as admin:
        assert admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    admin_engine.dispose()
    return pid


def test_an_idle_dead_connection_is_replaced_at_checkout():
    engine = _engine(idle_seconds=0.05)
    try:
        dead = _kill_pooled_backend(engine)
        time.sleep(0.1)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != dead
    finally:
        engine.dispose()


def test_a_recently_used_connection_is_not_pinged():
    """The cost side of the trade: within the idle window a dead connection is only found
    by the statement that uses it (that request fails once; the pool then recovers)."""
    engine = _engine(idle_seconds=3600)
    try:
        _kill_pooled_backend(engine)
        with pytest.raises(OperationalError), engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        engine.dispose()
