"""`gunicorn bench.count_wsgi:app`: Frontdesk with database and store round trips counted.

Counted where the bytes leave the process, so nothing hides:
- PostgreSQL: every psycopg network exchange — a query (`_execute_send`, pre-ping included)
  or a command (`_exec_command`: BEGIN, COMMIT, ROLLBACK, SET);
- SQLite (embedded mode): every statement SQLAlchemy executes plus commits and rollbacks
  (in-process calls, not network trips, but the same work);
- Redis: every `send_packed_command` (a pipeline is one trip).
One JSON line per request goes to $BENCH_ROUNDTRIP_LOG when the response is closed, so the
teardown (session removal, rollback) is included. Run it with one sync worker.
"""

from __future__ import annotations

import json
import os
import threading

import psycopg._connection_base
import psycopg._cursor_base
import redis.connection
from sqlalchemy import event

from app import create_app
from app.extensions import db

_local = threading.local()


def _trips() -> dict:
    if not hasattr(_local, "trips"):
        _local.trips = {"db": 0, "store": 0, "db_ops": [], "store_ops": []}
    return _local.trips


def _note(kind: str, what: str) -> None:
    trips = _trips()
    trips[kind] += 1
    trips[kind + "_ops"].append(what)


def _describe_sql(statement: str) -> str:
    words = statement.split()
    verb = words[0].upper() if words else "?"
    upper = [w.upper() for w in words]
    for keyword in ("FROM", "INTO", "UPDATE"):
        if keyword in upper[:40] and upper.index(keyword) + 1 < len(words):
            table = words[upper.index(keyword) + 1].strip('"(').split(".")[-1]
            return f"{verb} {table}"
    return verb


def _wrap_psycopg() -> None:
    send = psycopg._cursor_base.BaseCursor._execute_send
    command = psycopg._connection_base.BaseConnection._exec_command

    def counted_send(self, query, *args, **kwargs):
        text = getattr(query, "query", b"")
        _note("db", _describe_sql(text.decode() if isinstance(text, bytes) else str(text)))
        return send(self, query, *args, **kwargs)

    def counted_command(self, cmd, *args, **kwargs):
        raw = cmd if isinstance(cmd, bytes) else str(cmd).encode()
        _note("db", raw.decode(errors="replace").split()[0].upper())
        return command(self, cmd, *args, **kwargs)

    psycopg._cursor_base.BaseCursor._execute_send = counted_send
    psycopg._connection_base.BaseConnection._exec_command = counted_command


def _wrap_redis() -> None:
    cls = redis.connection.AbstractConnection
    send, send_command, pack_commands = (cls.send_packed_command, cls.send_command,
                                         cls.pack_commands)

    def named_command(self, *args, **kwargs):
        _trips()["pending"] = [str(args[0]) if args else "?"]
        return send_command(self, *args, **kwargs)

    def named_pipeline(self, commands):
        commands = list(commands)
        _trips()["pending"] = [str(c[0]) for c in commands if c]
        return pack_commands(self, commands)

    def counted_send(self, command, check_health=True):
        names = _trips().pop("pending", None) or ["?"]
        _note("store", "+".join(names))
        return send(self, command, check_health)

    cls.send_command = named_command
    cls.pack_commands = named_pipeline
    cls.send_packed_command = counted_send


def _watch_sqlite(engine) -> None:
    @event.listens_for(engine, "before_cursor_execute")
    def _statement(conn, cursor, statement, *args):
        _note("db", _describe_sql(statement))

    @event.listens_for(engine, "commit")
    def _commit(conn):
        _note("db", "COMMIT")

    @event.listens_for(engine, "rollback")
    def _rollback(conn):
        _note("db", "ROLLBACK")


class _Closing:
    """Response iterable that logs the request's trips once the server closes it."""

    def __init__(self, body, on_close):
        self._body, self._on_close = body, on_close

    def __iter__(self):
        return iter(self._body)

    def close(self):
        try:
            if hasattr(self._body, "close"):
                self._body.close()
        finally:
            self._on_close()


class CountingMiddleware:
    def __init__(self, wsgi_app, log_path: str):
        self.wsgi_app, self.log_path = wsgi_app, log_path

    def __call__(self, environ, start_response):
        _local.trips = {"db": 0, "store": 0, "db_ops": [], "store_ops": []}
        status = []

        def capture(code, headers, exc_info=None):
            status.append(code.split()[0])
            return start_response(code, headers, exc_info)

        def done():
            trips = _trips()
            trips.pop("pending", None)
            line = {"method": environ["REQUEST_METHOD"], "path": environ.get("PATH_INFO", ""),
                    "status": status[0] if status else "?", **trips}
            with open(self.log_path, "a") as out:
                out.write(json.dumps(line) + "\n")

        return _Closing(self.wsgi_app(environ, capture), done)


def build():
    flask_app = create_app()
    with flask_app.app_context():
        if db.engine.dialect.name == "sqlite":
            _watch_sqlite(db.engine)
        else:
            _wrap_psycopg()
    _wrap_redis()
    log = os.environ.get("BENCH_ROUNDTRIP_LOG", "roundtrips.jsonl")
    flask_app.wsgi_app = CountingMiddleware(flask_app.wsgi_app, log)
    return flask_app


app = build()
