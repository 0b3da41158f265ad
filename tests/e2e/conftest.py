"""Fixtures of the browser tests: per module one real server process and one Chromium.

Every test gets fresh browser contexts (cookies are per context), so tests of one module
share the server and the browser but never a browser session.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.e2e.support import (
    DEFAULT_TIMEOUT_MS,
    SERVER_SETTINGS,
    BackgroundCommand,
    Mailbox,
    launch_chromium,
)
from tests.live import (
    TEST_DATABASE_URL,
    TEST_REDIS_URL,
    _flush_prefix,
    drop_database,
    start_server,
)

expect.set_options(timeout=DEFAULT_TIMEOUT_MS)


def _start_module_server(module, tmp_dir):
    """The server a module asks for: the e2e settings plus the module's SERVER_OVERRIDES,
    and `frontdesk demo` run in the background unless the module sets DEMO_USER = False."""
    settings = {**SERVER_SETTINGS, **getattr(module, "SERVER_OVERRIDES", {})}
    live = start_server(tmp_dir, **settings)
    if getattr(module, "DEMO_USER", True):
        live.extra["demo"] = BackgroundCommand(live, "demo")
    return live


def _stop_server(live) -> None:
    try:
        if "demo" in live.extra:
            live.extra["demo"].finish()  # never leave the process behind
    finally:
        live.stop()
        if TEST_DATABASE_URL:
            drop_database(live.env["FRONTDESK_DATABASE_URL"])
        if TEST_REDIS_URL:
            _flush_prefix(live.env["FRONTDESK_REDIS_PREFIX"])  # sessions, codes, counters


class ServerPool:
    """Starts the server of every e2e module of the run at once, so that later modules'
    servers boot (migrations, keys, interpreter start-up) while earlier modules test."""

    def __init__(self, modules, tmp_path_factory) -> None:
        self._executor = ThreadPoolExecutor(max_workers=max(1, len(modules)))
        self._futures = {module.__name__: self._executor.submit(
            _start_module_server, module, tmp_path_factory.mktemp("e2e")) for module in modules}

    def take(self, module):
        return self._futures.pop(module.__name__).result()

    def close(self) -> None:
        """Stop the servers no module took (a module deselected or interrupted)."""
        for future in self._futures.values():
            try:
                _stop_server(future.result())
            except Exception:  # noqa: BLE001, S110 - it failed to start: nothing to stop
                pass
        self._executor.shutdown()


@pytest.fixture(scope="session")
def server_pool(request, tmp_path_factory):
    modules = []
    for item in request.session.items:
        if "server" in getattr(item, "fixturenames", ()) and item.module not in modules:
            modules.append(item.module)
    pool = ServerPool(modules, tmp_path_factory)
    yield pool
    pool.close()


@pytest.fixture(scope="module")
def server(request, server_pool):
    """This module's `frontdesk run` process (file mail backend), stopped after the module;
    a module adds settings with a SERVER_OVERRIDES dict and skips the demo user with
    DEMO_USER = False."""
    live = server_pool.take(request.module)
    try:
        yield live
    finally:
        _stop_server(live)


@pytest.fixture(scope="module")
def mailbox(server) -> Mailbox:
    return Mailbox(server.instance / "outbox")


@pytest.fixture(scope="module")
def demo(server) -> dict:
    """`frontdesk demo` (started with the server): the demo client and user (email,
    password)."""
    return server.extra["demo"].result()


@pytest.fixture(scope="module")
def playwright_instance():
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def browser(playwright_instance):
    chromium = launch_chromium(playwright_instance)
    yield chromium
    chromium.close()


@pytest.fixture
def new_page(browser):
    """Open pages in fresh contexts (a new browser profile each); closed after the test."""
    contexts = []

    def open_page(**context_options):
        options = {"viewport": {"width": 1280, "height": 900}, **context_options}
        context = browser.new_context(**options)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()
