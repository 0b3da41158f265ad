"""Fixtures of the browser tests: per module one real server process and one Chromium.

Every test gets fresh browser contexts (cookies are per context), so tests of one module
share the server and the browser but never a browser session.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import sync_playwright

from tests.e2e.support import SERVER_SETTINGS, BackgroundCommand, Mailbox, launch_chromium
from tests.live import TEST_DATABASE_URL, drop_database, start_server

DEFAULT_TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def server(request, tmp_path_factory):
    """A `frontdesk run` process (file mail backend) with the e2e settings; a module can add
    settings with a module-level SERVER_OVERRIDES dict, and skip the demo user (created in
    the background while the first test runs) with DEMO_USER = False."""
    settings = {**SERVER_SETTINGS, **getattr(request.module, "SERVER_OVERRIDES", {})}
    live = start_server(tmp_path_factory.mktemp("e2e"), **settings)
    if getattr(request.module, "DEMO_USER", True):
        live.extra["demo"] = BackgroundCommand(live, "demo")
    try:
        yield live
    finally:
        if "demo" in live.extra:
            live.extra["demo"].finish()  # never leave the process behind
        live.stop()
        if TEST_DATABASE_URL:
            drop_database(live.env["FRONTDESK_DATABASE_URL"])


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
