"""Autocommit connections for hot read-only queries (userinfo).

A query on the ORM session pays BEGIN and a ROLLBACK at teardown; switching a pooled
connection to autocommit and back per request costs nearly as much in SQLAlchemy. So each
database engine gets a sibling engine whose connections are autocommit from birth: one
round trip per query, no isolation switching (measured: 0.24 → 0.15 ms CPU for userinfo's
query). It is small (2 pooled connections) and disposed with its sibling.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, create_engine, event

_SIBLINGS: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


def attach_autocommit_engine(engine: Engine, connect_args: dict | None = None,
                             on_connect=None) -> Engine:
    """Create `engine`'s autocommit sibling (same URL and connect arguments)."""
    options: dict = {"isolation_level": "AUTOCOMMIT", "connect_args": connect_args or {}}
    if engine.dialect.name != "sqlite":
        options.update(pool_size=2, max_overflow=8, pool_recycle=1800)
    sibling = create_engine(engine.url, **options)
    if on_connect is not None:
        event.listen(sibling, "connect", on_connect)
    event.listen(engine, "engine_disposed", lambda _engine: sibling.dispose())
    _SIBLINGS[engine] = sibling
    return sibling


@contextmanager
def autocommit_connection(engine: Engine) -> Iterator[Connection]:
    """A connection of `engine`'s autocommit sibling (`engine` itself if it has none)."""
    with _SIBLINGS.get(engine, engine).connect() as conn:
        yield conn
