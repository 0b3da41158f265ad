"""A process's own copy of one Redis key, kept current by pub/sub, so that a value every
request needs (the clients' version, app.oauth.client_cache) costs no round trip.

Writers change the key with `RedisStore.set_announced`: SET and PUBLISH in one MULTI/EXEC.
Each process that asks `RedisStore.mirror(key)` gets a `KeyMirror`: a daemon thread that
subscribes to the key's channel and applies every announcement. `current()` answers
(True, value) while the subscription is up and (False, None) otherwise; the caller then
reads the store as it would without a mirror.

No value is read at subscription: the mirror starts from a fresh token that no writer ever
announced, so anything a caller tagged with an earlier value looks stale, and from then on
the values follow the announcements in their order (one connection, one channel). A GET
there instead could race an announcement already queued and move the mirror back to an
older value for a moment.

Failures: a connection error, a lost subscription or a closed store ends the subscription;
the mirror is not current until it has subscribed again (a retry per second), so callers
fall back to the store meanwhile. Its client must not retry by itself: redis-py would
reconnect and subscribe again silently, past announcements lost while it was away. A
silent network partition is noticed by redis-py's health check (a PING after
`health_check_interval` without traffic); callers that cache should bound an entry's life
anyway (client_cache keeps one 5 s at most).

Mirrors belong to the process that made them: a forked child gets its own on first use,
and a mirror stops once its store is garbage (tests build many apps).
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
import weakref
from typing import Any

import redis

log = logging.getLogger(__name__)

RETRY_SECONDS = 1.0
POLL_SECONDS = 1.0  # how often the thread looks at its stop flag and its store
SUBSCRIBE_TIMEOUT_SECONDS = 5.0


class KeyMirror:
    def __init__(self, owner: Any, client: redis.Redis, channel: str) -> None:
        self._owner = weakref.ref(owner)
        self._client = client
        self._channel = channel
        self._value: str | None = None
        self._live = False
        self._stop = threading.Event()
        self.pid = os.getpid()
        self._thread = threading.Thread(target=self._run, name=f"mirror {channel}",
                                        daemon=True)
        self._thread.start()

    def current(self) -> tuple[bool, str | None]:
        """(True, value) while subscribed; (False, None) when the caller must read the store."""
        if self._live:
            return True, self._value
        return False, None

    def wait_live(self, timeout: float) -> bool:
        """True once subscribed (for start-up and tests; requests never wait)."""
        deadline = time.monotonic() + timeout
        while not self._live and time.monotonic() < deadline:
            time.sleep(0.01)
        return self._live

    def close(self) -> None:
        self._stop.set()
        self._live = False

    def _running(self) -> bool:
        return not self._stop.is_set() and self._owner() is not None

    def _run(self) -> None:
        failing = False
        while self._running():
            pubsub = self._client.pubsub()
            try:
                self._subscribe(pubsub)
                if failing:
                    log.info("store mirror %s subscribed again", self._channel)
                failing = False
                self._follow(pubsub)
            except Exception as exc:  # noqa: BLE001 - any failure: retry, never die silently
                if not failing:  # once per outage, not once a second
                    log.warning("store mirror %s lost its subscription (%s); requests read "
                                "the store until it is back", self._channel,
                                exc.__class__.__name__,
                                exc_info=not isinstance(exc, redis.RedisError | OSError))
                failing = True
            finally:
                self._live = False
                pubsub.close()
            self._stop.wait(RETRY_SECONDS)

    def _subscribe(self, pubsub) -> None:
        pubsub.subscribe(self._channel)
        deadline = time.monotonic() + SUBSCRIBE_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            message = pubsub.get_message(timeout=POLL_SECONDS)
            if message and message["type"] == "subscribe":
                self._value = _start_token()
                self._live = True
                return
        raise redis.TimeoutError("no subscription confirmation")

    def _follow(self, pubsub) -> None:
        while self._running():
            message = pubsub.get_message(timeout=POLL_SECONDS)
            if message is None:
                continue
            if message["type"] == "message":
                self._value = message["data"]
            elif message["type"] == "subscribe":  # subscribed anew: something may be lost
                self._value = _start_token()
            elif message["type"] == "unsubscribe":
                raise redis.ConnectionError("unsubscribed")


def _start_token() -> str:
    return "mirror-start:" + secrets.token_urlsafe(12)
