"""One suite, both backends: RedisStore on a real Redis and SQLStore on the test database.

Both backends run in every mode (embedded: SQLite; production: PostgreSQL), whatever
store the app itself is configured with.
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest
import redis as redis_lib
from sqlalchemy import create_engine, create_mock_engine

from app.extensions import db
from app.store import RedisStore, SQLStore, StoreUnavailable
from tests.conftest import STORE_REDIS_URL
from tests.live import free_port

THREADS = 10


@pytest.fixture(params=["redis", "sql"])
def store(request, app):
    if request.param == "redis":
        prefix = f"fdstoretest:{uuid.uuid4().hex}:"
        yield RedisStore(STORE_REDIS_URL, prefix)
        client = redis_lib.Redis.from_url(STORE_REDIS_URL)
        keys = list(client.scan_iter(match=prefix + "*"))
        if keys:
            client.delete(*keys)
        client.close()
    else:
        with app.app_context():
            yield SQLStore(db.engine)


def run_together(count: int, fn) -> list:
    """Call fn() from `count` threads released at the same instant; return the results."""
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        barrier.wait()
        try:
            results[i] = fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    if errors:
        raise errors[0]
    return results


def test_set_and_get(store):
    assert store.get("missing") is None
    store.set("k", "v1", 60)
    assert store.get("k") == "v1"
    store.set("k", "v2", 60)
    assert store.get("k") == "v2"
    store.set("empty", "", 60)
    assert store.get("empty") == ""


def test_value_expires(store):
    store.set("short", "v", 1.0)
    store.set("long", "v", 60)
    assert store.get("short") == "v"
    time.sleep(1.2)
    assert store.get("short") is None
    assert store.get("long") == "v"


def test_set_replaces_ttl(store):
    store.set("k", "v", 0.4)
    store.set("k", "w", 60)
    time.sleep(0.6)
    assert store.get("k") == "w"


def test_add_only_when_absent(store):
    assert store.add("k", "first", 60) is True
    assert store.add("k", "second", 60) is False
    assert store.get("k") == "first"


def test_add_takes_over_an_expired_key(store):
    assert store.add("k", "old", 0.3) is True
    time.sleep(0.5)
    assert store.add("k", "new", 60) is True
    assert store.get("k") == "new"


def test_pop_returns_once(store):
    store.set("code", "payload", 60)
    assert store.pop("code") == "payload"
    assert store.pop("code") is None
    assert store.get("code") is None
    assert store.pop("never-set") is None


def test_pop_of_an_expired_value_is_none(store):
    store.set("code", "payload", 0.3)
    time.sleep(0.5)
    assert store.pop("code") is None


def test_incr_counts_within_its_ttl(store):
    assert [store.incr("n", 60) for _ in range(3)] == [1, 2, 3]
    assert store.get("n") == "3"
    assert store.pop("n") == "3"
    assert store.incr("n", 60) == 1


def test_incr_ttl_starts_at_creation(store):
    assert store.incr("n", 2.0) == 1
    time.sleep(1.0)
    assert store.incr("n", 2.0) == 2  # does not push the expiry back
    time.sleep(1.2)
    assert store.get("n") is None
    assert store.incr("n", 2.0) == 1


def test_delete(store):
    store.set("a", "1", 60)
    store.set("b", "2", 60)
    store.set_add("s", "m", 60)
    store.incr("n", 60)
    store.delete("a", "s", "n", "not-there")
    assert store.get("a") is None
    assert store.get("b") == "2"
    assert store.set_members("s") == set()
    assert store.get("n") is None
    store.delete()  # no keys: no error


def test_set_members(store):
    assert store.set_members("s") == set()
    store.set_add("s", "a", 60)
    store.set_add("s", "b", 60)
    store.set_add("s", "a", 60)
    assert store.set_members("s") == {"a", "b"}
    store.set_remove("s", "a")
    store.set_remove("s", "not-a-member")
    assert store.set_members("s") == {"b"}
    assert store.set_members("other") == set()


def test_set_expires_as_a_whole_and_adding_extends_it(store):
    store.set_add("s", "a", 1.5)
    time.sleep(0.5)
    store.set_add("s", "b", 60)  # extends the whole set
    store.set_add("s", "c", 0.1)  # never shortens it
    time.sleep(1.2)
    assert store.set_members("s") == {"a", "b", "c"}


def test_expired_set_is_not_revived(store):
    store.set_add("s", "old", 0.3)
    time.sleep(0.5)
    assert store.set_members("s") == set()
    store.set_add("s", "new", 60)
    assert store.set_members("s") == {"new"}


def test_json_helpers(store):
    store.set_json("j", {"a": [1, 2], "b": None}, 60)
    assert store.get_json("j") == {"a": [1, 2], "b": None}
    assert store.pop_json("j") == {"a": [1, 2], "b": None}
    assert store.pop_json("j") is None
    assert store.get_json("j") is None


def test_ping(store):
    store.ping()


def test_get_many_keeps_order_and_misses(store):
    store.set("a", "1", 60)
    store.set("c", "3", 60)
    store.set("gone", "x", 0.05)
    store.incr("n", 60)
    time.sleep(0.1)
    assert store.get_many("c", "missing", "a", "gone", "n") == ["3", None, "1", None, "1"]
    assert store.get_many() == []


def test_batch_writes_arrive_together(store):
    store.set("old", "x", 60)
    store.set_add("s", "kept", 60)
    with store.batch() as batch:
        batch.delete("old")
        batch.set("new", "y", 60)
        batch.set_json("j", {"k": 1}, 60)
        batch.set_add("s", "added", 120)
        batch.set_remove("s", "kept")
    assert store.get_many("old", "new") == [None, "y"]
    assert store.get_json("j") == {"k": 1}
    assert store.set_members("s") == {"added"}


def test_redis_batch_sends_nothing_before_the_end_or_after_an_error():
    store = RedisStore(STORE_REDIS_URL, f"fdstoretest:{uuid.uuid4().hex}:")
    with store.batch() as batch:
        batch.set("k", "v", 60)
        assert store.get("k") is None  # still queued
    assert store.get("k") == "v"
    with pytest.raises(ValueError), store.batch() as batch:
        batch.set("k", "changed", 60)
        batch.set("other", "v", 60)
        raise ValueError("the caller failed half way")
    assert store.get_many("k", "other") == ["v", None]
    store.delete("k")


def test_redis_batch_reports_an_unreachable_server():
    store = RedisStore(f"redis://127.0.0.1:{free_port()}/0")
    with pytest.raises(StoreUnavailable, match="redis"), store.batch() as batch:
        batch.set("k", "v", 5)


@pytest.mark.parametrize("round_", range(5))
def test_concurrent_pop_returns_the_value_to_exactly_one_caller(store, round_):
    key = f"code-{round_}"
    store.set(key, f"value-{round_}", 60)
    results = run_together(THREADS, lambda: store.pop(key))
    assert sorted(results, key=str) == [None] * (THREADS - 1) + [f"value-{round_}"]
    assert store.get(key) is None


@pytest.mark.parametrize("round_", range(3))
def test_concurrent_add_creates_the_key_once(store, round_):
    key = f"lock-{round_}"
    results = run_together(THREADS, lambda: store.add(key, threading.current_thread().name, 60))
    assert results.count(True) == 1
    assert results.count(False) == THREADS - 1


def test_concurrent_incr_loses_no_increment(store):
    def five_increments():
        return [store.incr("hits", 60) for _ in range(5)]

    seen = [n for batch in run_together(THREADS, five_increments) for n in batch]
    assert sorted(seen) == list(range(1, THREADS * 5 + 1))
    assert store.get("hits") == str(THREADS * 5)


def test_redis_prefixes_keep_stores_apart():
    one = RedisStore(STORE_REDIS_URL, f"fdstoretest:{uuid.uuid4().hex}:")
    two = RedisStore(STORE_REDIS_URL, f"fdstoretest:{uuid.uuid4().hex}:")
    one.set("k", "one", 5)
    assert two.get("k") is None
    one.delete("k")


UNREACHABLE_CALLS = [
    ("set", ("k", "v", 5)), ("add", ("k", "v", 5)), ("get", ("k",)), ("pop", ("k",)),
    ("incr", ("k", 5)), ("delete", ("k",)), ("set_add", ("s", "m", 5)),
    ("set_remove", ("s", "m")), ("set_members", ("s",)), ("ping", ()),
    ("get_many", ("k", "l")),
]


@pytest.mark.parametrize(("method", "args"), UNREACHABLE_CALLS)
def test_unreachable_redis_raises_store_unavailable(method, args):
    store = RedisStore(f"redis://127.0.0.1:{free_port()}/0")
    started = time.monotonic()
    with pytest.raises(StoreUnavailable, match="redis"):
        getattr(store, method)(*args)
    assert time.monotonic() - started < 3  # no long retry loop


@pytest.mark.parametrize(("method", "args"), UNREACHABLE_CALLS)
def test_unreachable_database_raises_store_unavailable(method, args):
    engine = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/x",
                           connect_args={"connect_timeout": 2})
    try:
        with pytest.raises(StoreUnavailable, match="embedded store"):
            getattr(SQLStore(engine), method)(*args)
    finally:
        engine.dispose()


def test_embedded_store_rejects_other_databases():
    engine = create_mock_engine("mysql://nobody@127.0.0.1/x", executor=None)
    with pytest.raises(ValueError, match="does not support mysql"):
        SQLStore(engine)


def test_embedded_store_purges_expired_rows(app, monkeypatch):
    monkeypatch.setattr("app.store.PURGE_PROBABILITY", 1.0)
    with app.app_context():
        store = SQLStore(db.engine)
        store.set("old", "v", 0.1)
        store.set_add("old-set", "m", 0.1)
        time.sleep(0.3)
        store.set("new", "v", 60)  # each write may purge; here it always does
        with db.engine.connect() as conn:
            keys = {row[0] for row in conn.execute(store.entries.select().with_only_columns(
                store.entries.c.key))}
            members = list(conn.execute(store.members.select()))
    assert keys == {"new"}
    assert members == []
