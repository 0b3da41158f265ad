"""The ephemeral key-value store: sessions, pending requests, codes, counters, deny-lists.

Two backends with one contract: Redis (`FRONTDESK_REDIS_URL`) and an embedded one on the
SQL database. Values are strings; callers JSON-encode what they need (`set_json` & co).
Every method raises `StoreUnavailable` when the backend cannot be reached, so a request
answers 503 and the next one works again once the backend is back.

Semantics both backends share (tests/test_store.py runs one suite against both):
- `set`/`add` give the key a TTL; `get` never returns an expired value.
- `pop` is an atomic get-and-delete: among concurrent callers exactly one gets the value.
- `incr` counts from 1; the TTL starts when the counter is created and is not extended.
  `get` on a counter returns its value as a string.
- A set (`set_add`) expires as a whole; adding a member extends its TTL, never shortens it.
- `batch()` sends the writes made inside it together: one round trip (MULTI/EXEC) on Redis.
"""

from __future__ import annotations

import copy
import functools
import json
import logging
import os
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import String, bindparam, case, cast, delete, func, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from app.models.store_entries import StoreEntry, StoreMember
from app.store_mirror import KeyMirror

log = logging.getLogger(__name__)

PURGE_PROBABILITY = 0.01
PURGE_BATCH = 1000


class StoreUnavailable(RuntimeError):
    """The store's backend did not answer."""


class Store:
    """Contract shared by the backends; JSON helpers built on the primitives."""

    name = "store"

    def set(self, key: str, value: str, ttl_seconds: float) -> None:
        raise NotImplementedError

    def add(self, key: str, value: str, ttl_seconds: float) -> bool:
        """Set only if absent; True when this call created the key."""
        raise NotImplementedError

    def get(self, key: str) -> str | None:
        raise NotImplementedError

    def get_many(self, *keys: str) -> list[str | None]:
        """The values of several keys in one round trip, in order (None where absent)."""
        raise NotImplementedError

    def pop(self, key: str) -> str | None:
        """Atomic get-and-delete: among concurrent callers exactly one gets the value."""
        raise NotImplementedError

    def incr(self, key: str, ttl_seconds: float) -> int:
        """Increment a counter; the TTL starts when the counter is created."""
        raise NotImplementedError

    def delete(self, *keys: str) -> None:
        raise NotImplementedError

    def set_add(self, key: str, member: str, ttl_seconds: float) -> None:
        raise NotImplementedError

    def set_remove(self, key: str, member: str) -> None:
        raise NotImplementedError

    def set_members(self, key: str) -> set[str]:
        raise NotImplementedError

    def ping(self) -> None:
        raise NotImplementedError

    @contextmanager
    def batch(self) -> Iterator[Store]:
        """Write through the store this yields (set, set_json, delete, set_add, set_remove;
        no reads): the writes reach the backend when the block ends, together. Redis gets
        them in one round trip as one MULTI/EXEC transaction; the embedded store runs each
        as it comes. An exception inside the block sends nothing to Redis."""
        yield self

    def set_announced(self, key: str, value: str, ttl_seconds: float) -> None:
        """`set`, and every process's `mirror(key)` follows (Redis: one MULTI/EXEC)."""
        self.set(key, value, ttl_seconds)

    def mirror(self, key: str) -> KeyMirror | None:
        """This process's live copy of `key` (app/store_mirror.py), or None where the
        backend cannot announce changes (the embedded store): read the key instead."""
        return None

    def set_json(self, key: str, value: Any, ttl_seconds: float) -> None:
        self.set(key, json.dumps(value, separators=(",", ":")), ttl_seconds)

    def get_json(self, key: str) -> Any:
        raw = self.get(key)
        return None if raw is None else json.loads(raw)

    def pop_json(self, key: str) -> Any:
        raw = self.pop(key)
        return None if raw is None else json.loads(raw)


def _is_unavailable(exc: Exception) -> bool:
    """Connection trouble (retryable later), as opposed to a bug in a statement."""
    if isinstance(exc, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError):
        return True
    if isinstance(exc, OperationalError | InterfaceError | PoolTimeoutError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def _guard(method):
    """Translate backend connection failures into StoreUnavailable."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except (redis.exceptions.RedisError, DBAPIError, PoolTimeoutError) as exc:
            if not _is_unavailable(exc):
                raise
            raise StoreUnavailable(f"{self.name}: {exc.__class__.__name__}") from None

    return wrapper


def _redis_ttl(ttl_seconds: float) -> int:
    """Redis TTLs are in milliseconds here (PX) so that sub-second TTLs behave alike."""
    return max(1, int(ttl_seconds * 1000))


class RedisStore(Store):
    name = "redis"

    def __init__(self, url: str, prefix: str = "fd:") -> None:
        self.prefix = prefix
        self._batched = False
        # One immediate retry covers a connection that went stale when Redis restarted;
        # more retries (redis-py's default is 10 with backoff) would only stall requests
        # and /readyz while Redis is down.
        self.client = redis.Redis.from_url(
            url, socket_timeout=2, socket_connect_timeout=2, health_check_interval=15,
            retry=Retry(NoBackoff(), 1), decode_responses=True)
        self._url = url
        self._mirrors: dict[str, KeyMirror] = {}
        self._mirrors_lock = threading.Lock()

    def _k(self, key: str) -> str:
        return self.prefix + key

    def _channel(self, key: str) -> str:
        """Pub/sub channels are server-wide, not per database: the number goes in the name."""
        db_number = self.client.connection_pool.connection_kwargs.get("db", 0)
        return f"{self.prefix}{key}@db{db_number}"

    @_guard
    def set_announced(self, key, value, ttl_seconds):
        pipe = self.client.pipeline(transaction=True)
        pipe.set(self._k(key), value, px=_redis_ttl(ttl_seconds))
        pipe.publish(self._channel(key), value)
        pipe.execute()

    def mirror(self, key):
        found = self._mirrors.get(key)
        if found is not None and found.pid == os.getpid():
            return found
        with self._mirrors_lock:
            found = self._mirrors.get(key)
            if found is None or found.pid != os.getpid():
                # No retries of its own (app/store_mirror.py); a PING every 5 s when idle.
                client = redis.Redis.from_url(
                    self._url, socket_timeout=5, socket_connect_timeout=2,
                    health_check_interval=5, retry=Retry(NoBackoff(), 0),
                    decode_responses=True)
                found = self._mirrors[key] = KeyMirror(self, client, self._channel(key))
        return found

    def close(self) -> None:
        """Stop the mirrors and give back the connections (tests build many stores)."""
        for found in self._mirrors.values():
            found.close()
        self.client.close()

    @_guard
    def set(self, key, value, ttl_seconds):
        self.client.set(self._k(key), value, px=_redis_ttl(ttl_seconds))

    @_guard
    def add(self, key, value, ttl_seconds):
        return bool(self.client.set(self._k(key), value, px=_redis_ttl(ttl_seconds), nx=True))

    @_guard
    def get(self, key):
        return self.client.get(self._k(key))

    @_guard
    def get_many(self, *keys):
        return self.client.mget([self._k(k) for k in keys]) if keys else []

    @_guard
    def pop(self, key):
        return self.client.getdel(self._k(key))

    @_guard
    def incr(self, key, ttl_seconds):
        pipe = self.client.pipeline(transaction=True)
        pipe.incr(self._k(key))
        pipe.pexpire(self._k(key), _redis_ttl(ttl_seconds), nx=True)
        value, _ = pipe.execute()
        return int(value)

    @_guard
    def delete(self, *keys):
        if keys:
            self.client.delete(*(self._k(k) for k in keys))

    @_guard
    def set_add(self, key, member, ttl_seconds):
        ttl = _redis_ttl(ttl_seconds)
        pipe = self.client if self._batched else self.client.pipeline(transaction=True)
        pipe.sadd(self._k(key), member)
        pipe.pexpire(self._k(key), ttl, nx=True)
        pipe.pexpire(self._k(key), ttl, gt=True)
        if not self._batched:
            pipe.execute()

    @_guard
    def set_remove(self, key, member):
        self.client.srem(self._k(key), member)

    @_guard
    def set_members(self, key):
        return set(self.client.smembers(self._k(key)))

    @_guard
    def ping(self):
        self.client.ping()

    @contextmanager
    def batch(self):
        pipe = self.client.pipeline(transaction=True)
        batched = copy.copy(self)
        batched.client, batched._batched = pipe, True
        try:
            yield batched
        except BaseException:
            pipe.reset()
            raise
        self._send(pipe)

    @_guard
    def _send(self, pipe) -> None:
        if pipe.command_stack:
            pipe.transaction = len(pipe.command_stack) > 1  # one command needs no MULTI
            pipe.execute()


class SQLStore(Store):
    """The embedded store: two tables in the main SQL database, expiry by timestamp.

    Every write transaction starts with its write statement, so SQLite takes the write lock
    first and waits (busy_timeout) instead of failing a read-to-write upgrade.
    """

    name = "embedded store"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.entries = StoreEntry.__table__
        self.members = StoreMember.__table__
        dialect = {"sqlite": sqlite, "postgresql": postgresql}.get(engine.dialect.name)
        if dialect is None:
            raise ValueError(f"embedded store does not support {engine.dialect.name}")
        self._insert = dialect.insert
        # The commonest statements, built once: building a statement per call cost more
        # than running it (SQLite: a GET 180 µs built per call, 51 µs prebuilt).
        t = self.entries
        value = self._value_columns()
        upsert = self._insert(t).values(key=bindparam("k"), value=bindparam("v"), counter=0,
                                        expires_at=bindparam("exp"))
        self._set = upsert.on_conflict_do_update(index_elements=["key"], set_={
            "value": upsert.excluded.value, "counter": 0,
            "expires_at": upsert.excluded.expires_at})
        self._get = select(value).where(t.c.key == bindparam("k"),
                                        t.c.expires_at > bindparam("now"))
        self._get_many = select(t.c.key, value).where(
            t.c.key.in_(bindparam("keys", expanding=True)), t.c.expires_at > bindparam("now"))
        self._pop = delete(t).where(t.c.key == bindparam("k")).returning(
            t.c.value, t.c.counter, t.c.expires_at)

    def _value_columns(self):
        """The stored value; counters keep theirs in `counter` and read back as text."""
        t = self.entries
        return func.coalesce(t.c.value, cast(t.c.counter, String))

    def _maybe_purge(self) -> None:
        """Now and then, drop expired rows; in its own transaction, never failing a caller."""
        if random.random() >= PURGE_PROBABILITY:
            return
        now = time.time()
        try:
            with self.engine.begin() as conn:
                for table in (self.entries, self.members):
                    pk = list(table.primary_key.columns)
                    doomed = select(*pk).where(table.c.expires_at <= now).limit(PURGE_BATCH)
                    if self.engine.dialect.name == "postgresql":
                        doomed = doomed.with_for_update(skip_locked=True)
                    conn.execute(delete(table).where(tuple_(*pk).in_(doomed)))
        except DBAPIError as exc:  # a purge lost a race or the backend blinked: next time
            log.debug("store purge skipped: %s", exc.__class__.__name__)

    @_guard
    def set(self, key, value, ttl_seconds):
        with self.engine.begin() as conn:
            conn.execute(self._set, {"k": key, "v": value, "exp": time.time() + ttl_seconds})
        self._maybe_purge()

    @_guard
    def add(self, key, value, ttl_seconds):
        now = time.time()
        t = self.entries
        stmt = self._insert(t).values(key=key, value=value, counter=0,
                                      expires_at=now + ttl_seconds)
        # An expired row counts as absent: take it over, else leave the live one alone.
        stmt = stmt.on_conflict_do_update(
            index_elements=["key"],
            set_={"value": value, "counter": 0, "expires_at": now + ttl_seconds},
            where=t.c.expires_at <= now).returning(t.c.key)
        with self.engine.begin() as conn:  # rowcount is unreliable here (psycopg: -1)
            return conn.execute(stmt).first() is not None

    @_guard
    def get(self, key):
        with self.engine.connect() as conn:
            return conn.execute(self._get, {"k": key, "now": time.time()}).scalar()

    @_guard
    def get_many(self, *keys):
        if not keys:
            return []
        with self.engine.connect() as conn:
            found = dict(conn.execute(self._get_many,
                                      {"keys": list(keys), "now": time.time()}).all())
        return [found.get(k) for k in keys]

    @_guard
    def pop(self, key):
        with self.engine.begin() as conn:
            row = conn.execute(self._pop, {"k": key}).first()
        if row is None or row.expires_at <= time.time():
            return None
        return row.value if row.value is not None else str(row.counter)

    @_guard
    def incr(self, key, ttl_seconds):
        now = time.time()
        t = self.entries
        expired = t.c.expires_at <= now
        stmt = self._insert(t).values(key=key, value=None, counter=1, expires_at=now + ttl_seconds)
        stmt = stmt.on_conflict_do_update(index_elements=["key"], set_={
            "value": None,
            "counter": case((expired, 1), else_=t.c.counter + 1),
            "expires_at": case((expired, now + ttl_seconds), else_=t.c.expires_at),
        }).returning(t.c.counter)
        with self.engine.begin() as conn:
            return int(conn.execute(stmt).scalar_one())

    @_guard
    def delete(self, *keys):
        if keys:
            with self.engine.begin() as conn:
                conn.execute(delete(self.entries).where(self.entries.c.key.in_(keys)))
                conn.execute(delete(self.members).where(self.members.c.key.in_(keys)))

    @_guard
    def set_add(self, key, member, ttl_seconds):
        now = time.time()
        expires = now + ttl_seconds
        m = self.members
        live = (m.c.key == key) & (m.c.expires_at > now)
        stmt = self._insert(m).values(key=key, member=member, expires_at=expires)
        stmt = stmt.on_conflict_do_update(index_elements=["key", "member"], set_={
            "expires_at": case((m.c.expires_at > expires, m.c.expires_at), else_=expires)})
        # The set expires as a whole (like a Redis key): all live members share the
        # latest expiry.
        peers = m.alias("peers")
        latest = select(func.max(peers.c.expires_at)).where(
            peers.c.key == key, peers.c.expires_at > now).scalar_subquery()
        with self.engine.begin() as conn:
            conn.execute(stmt)
            conn.execute(update(m).where(live).values(expires_at=latest))
        self._maybe_purge()

    @_guard
    def set_remove(self, key, member):
        m = self.members
        with self.engine.begin() as conn:
            conn.execute(delete(m).where(m.c.key == key, m.c.member == member))

    @_guard
    def set_members(self, key):
        m = self.members
        with self.engine.connect() as conn:
            rows = conn.execute(select(m.c.member).where(
                m.c.key == key, m.c.expires_at > time.time()))
            return {r[0] for r in rows}

    @_guard
    def ping(self):
        with self.engine.connect() as conn:
            conn.execute(select(1))


def create_store(redis_url: str, redis_prefix: str, engine: Engine) -> Store:
    return RedisStore(redis_url, redis_prefix) if redis_url else SQLStore(engine)
