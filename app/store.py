"""The ephemeral key-value store: sessions, pending requests, codes, counters, deny-lists.

Two backends with one contract: Redis (`FRONTDESK_REDIS_URL`) and an embedded one on the
SQL database. Values are strings; callers JSON-encode what they need (`set_json` & co).
Every method raises `StoreUnavailable` when the backend cannot be reached.
"""

from __future__ import annotations

import json
import random
import time
from typing import Any

import redis
from sqlalchemy import case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from app.models.store_entries import StoreEntry, StoreMember

PURGE_PROBABILITY = 0.01


class StoreUnavailable(RuntimeError):
    """The store's backend did not answer."""


class Store:
    """Contract shared by the backends; JSON helpers built on the primitives."""

    name = "store"

    def set(self, key: str, value: str, ttl_seconds: int) -> None:
        raise NotImplementedError

    def add(self, key: str, value: str, ttl_seconds: int) -> bool:
        """Set only if absent; True when this call created the key."""
        raise NotImplementedError

    def get(self, key: str) -> str | None:
        raise NotImplementedError

    def pop(self, key: str) -> str | None:
        """Atomic get-and-delete: among concurrent callers exactly one gets the value."""
        raise NotImplementedError

    def incr(self, key: str, ttl_seconds: int) -> int:
        """Increment a counter; the TTL starts when the counter is created."""
        raise NotImplementedError

    def delete(self, *keys: str) -> None:
        raise NotImplementedError

    def set_add(self, key: str, member: str, ttl_seconds: int) -> None:
        raise NotImplementedError

    def set_remove(self, key: str, member: str) -> None:
        raise NotImplementedError

    def set_members(self, key: str) -> set[str]:
        raise NotImplementedError

    def ping(self) -> None:
        raise NotImplementedError

    def set_json(self, key: str, value: Any, ttl_seconds: int) -> None:
        self.set(key, json.dumps(value, separators=(",", ":")), ttl_seconds)

    def get_json(self, key: str) -> Any:
        raw = self.get(key)
        return None if raw is None else json.loads(raw)

    def pop_json(self, key: str) -> Any:
        raw = self.pop(key)
        return None if raw is None else json.loads(raw)


def _guard(method):
    """Translate backend connection failures into StoreUnavailable."""

    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            raise StoreUnavailable(f"{self.name}: {exc.__class__.__name__}") from None
        except (OperationalError, SQLAlchemyError) as exc:
            raise StoreUnavailable(f"{self.name}: {exc.__class__.__name__}") from None

    wrapper.__name__ = method.__name__
    wrapper.__doc__ = method.__doc__
    return wrapper


class RedisStore(Store):
    name = "redis"

    def __init__(self, url: str, prefix: str = "fd:") -> None:
        self.prefix = prefix
        self.client = redis.Redis.from_url(
            url, socket_timeout=2, socket_connect_timeout=2, health_check_interval=15,
            decode_responses=True)

    def _k(self, key: str) -> str:
        return self.prefix + key

    @_guard
    def set(self, key, value, ttl_seconds):
        self.client.set(self._k(key), value, ex=max(1, int(ttl_seconds)))

    @_guard
    def add(self, key, value, ttl_seconds):
        return bool(self.client.set(self._k(key), value, ex=max(1, int(ttl_seconds)), nx=True))

    @_guard
    def get(self, key):
        return self.client.get(self._k(key))

    @_guard
    def pop(self, key):
        return self.client.getdel(self._k(key))

    @_guard
    def incr(self, key, ttl_seconds):
        pipe = self.client.pipeline(transaction=True)
        pipe.incr(self._k(key))
        pipe.expire(self._k(key), max(1, int(ttl_seconds)), nx=True)
        value, _ = pipe.execute()
        return int(value)

    @_guard
    def delete(self, *keys):
        if keys:
            self.client.delete(*(self._k(k) for k in keys))

    @_guard
    def set_add(self, key, member, ttl_seconds):
        ttl = max(1, int(ttl_seconds))
        pipe = self.client.pipeline(transaction=True)
        pipe.sadd(self._k(key), member)
        pipe.expire(self._k(key), ttl, nx=True)
        pipe.expire(self._k(key), ttl, gt=True)
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


class SQLStore(Store):
    """The embedded store: two tables in the main SQL database, expiry by timestamp."""

    name = "embedded store"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.entries = StoreEntry.__table__
        self.members = StoreMember.__table__
        dialect = {"sqlite": sqlite, "postgresql": postgresql}.get(engine.dialect.name)
        if dialect is None:
            raise ValueError(f"embedded store does not support {engine.dialect.name}")
        self._insert = dialect.insert

    def _upsert_entry(self, conn, key: str, value: str | None, counter: int, expires: float):
        stmt = self._insert(self.entries).values(
            key=key, value=value, counter=counter, expires_at=expires)
        conn.execute(stmt.on_conflict_do_update(
            index_elements=["key"],
            set_={"value": value, "counter": counter, "expires_at": expires}))

    def _maybe_purge(self, conn, now: float) -> None:
        if random.random() < PURGE_PROBABILITY:
            conn.execute(delete(self.entries).where(self.entries.c.expires_at <= now))
            conn.execute(delete(self.members).where(self.members.c.expires_at <= now))

    @_guard
    def set(self, key, value, ttl_seconds):
        now = time.time()
        with self.engine.begin() as conn:
            self._upsert_entry(conn, key, value, 0, now + ttl_seconds)
            self._maybe_purge(conn, now)

    @_guard
    def add(self, key, value, ttl_seconds):
        now = time.time()
        t = self.entries
        with self.engine.begin() as conn:
            conn.execute(delete(t).where(t.c.key == key, t.c.expires_at <= now))
            stmt = self._insert(t).values(
                key=key, value=value, counter=0, expires_at=now + ttl_seconds)
            result = conn.execute(stmt.on_conflict_do_nothing(index_elements=["key"]))
            return result.rowcount == 1

    @_guard
    def get(self, key):
        t = self.entries
        with self.engine.connect() as conn:
            return conn.execute(select(t.c.value).where(
                t.c.key == key, t.c.expires_at > time.time())).scalar()

    @_guard
    def pop(self, key):
        t = self.entries
        with self.engine.begin() as conn:
            row = conn.execute(delete(t).where(t.c.key == key).returning(
                t.c.value, t.c.expires_at)).first()
        if row is None or row.expires_at <= time.time():
            return None
        return row.value

    @_guard
    def incr(self, key, ttl_seconds):
        now = time.time()
        t = self.entries
        stmt = self._insert(t).values(key=key, value=None, counter=1, expires_at=now + ttl_seconds)
        expired = t.c.expires_at <= now

        stmt = stmt.on_conflict_do_update(index_elements=["key"], set_={
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
        m = self.members
        stmt = self._insert(m).values(key=key, member=member, expires_at=now + ttl_seconds)
        stmt = stmt.on_conflict_do_update(
            index_elements=["key", "member"], set_={"expires_at": now + ttl_seconds})
        with self.engine.begin() as conn:
            conn.execute(stmt)
            self._maybe_purge(conn, now)

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
