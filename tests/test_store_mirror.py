"""app/store_mirror.py on a real Redis: a process's copy of one key, kept current by
pub/sub, and what happens when its subscription breaks. Two RedisStore objects on one
prefix stand for two worker processes."""

from __future__ import annotations

import gc
import time
import uuid

import pytest
import redis as redis_lib

from app.store import RedisStore, StoreUnavailable
from tests.conftest import STORE_REDIS_URL


def wait_for(condition, timeout: float = 5.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


@pytest.fixture
def stores():
    prefix = f"fdmirrortest:{uuid.uuid4().hex}:"
    made = [RedisStore(STORE_REDIS_URL, prefix), RedisStore(STORE_REDIS_URL, prefix)]
    yield made
    for store in made:
        store.close()
    client = redis_lib.Redis.from_url(STORE_REDIS_URL)
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)
    client.close()


def test_a_mirror_follows_announcements_from_another_process(stores):
    writer, reader = stores
    writer.set("k", "before", 60)
    mirror = reader.mirror("k")
    assert reader.mirror("k") is mirror  # one per key and process
    assert mirror.wait_live(5)
    live, value = mirror.current()
    # Not read at subscription: a start value nobody announced, so nothing tagged earlier
    # can pass for current.
    assert live and value not in (None, "before")
    for n in range(5):
        writer.set_announced("k", f"v{n}", 60)
    wait_for(lambda: mirror.current() == (True, "v4"), what="the last announcement")
    assert reader.get("k") == "v4"  # and the key itself was written


def test_a_broken_subscription_sends_callers_to_the_store_until_it_is_back(stores):
    writer, reader = stores
    mirror = reader.mirror("k")
    assert mirror.wait_live(5)
    writer.set_announced("k", "v1", 60)
    wait_for(lambda: mirror.current() == (True, "v1"))
    killer = redis_lib.Redis.from_url(STORE_REDIS_URL)
    try:
        killer.client_kill_filter(_type="pubsub")
    finally:
        killer.close()
    wait_for(lambda: mirror.current() == (False, None), what="the mirror to notice")
    writer.set_announced("k", "v2", 60)  # announced while nobody listens
    assert mirror.wait_live(5)
    live, value = mirror.current()
    assert live and value not in ("v1", "v2")  # a fresh start: v1 must not look current
    writer.set_announced("k", "v3", 60)
    wait_for(lambda: mirror.current() == (True, "v3"))


def test_a_mirror_stops_with_its_store():
    store = RedisStore(STORE_REDIS_URL, f"fdmirrortest:{uuid.uuid4().hex}:")
    mirror = store.mirror("k")
    assert mirror.wait_live(5)
    thread = mirror._thread
    store.client.close()
    del store
    gc.collect()
    thread.join(timeout=5)
    assert not thread.is_alive()


def test_closed_store_mirror_is_not_current():
    store = RedisStore(STORE_REDIS_URL, f"fdmirrortest:{uuid.uuid4().hex}:")
    mirror = store.mirror("k")
    assert mirror.wait_live(5)
    store.close()
    assert mirror.current() == (False, None)
    mirror._thread.join(timeout=5)
    assert not mirror._thread.is_alive()


def test_announcing_to_an_unreachable_redis_is_store_unavailable():
    store = RedisStore("redis://127.0.0.1:1/0", "fdmirrortest:")
    with pytest.raises(StoreUnavailable):
        store.set_announced("k", "v", 60)
    store.close()
