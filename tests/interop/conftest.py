"""A live Frontdesk server (tests/live.py) with a registered client and a user."""

from __future__ import annotations

import json

import pytest

from tests.live import start_server

EMAIL = "interop@example.com"
PASSWORD = "interop password 1234"
REDIRECT_URI = "http://127.0.0.1:8765/callback"


@pytest.fixture
def live(tmp_path):
    server = start_server(tmp_path)
    try:
        created = json.loads(server.cli(
            "clients", "create", "--name", "Interop", "--redirect-uri", REDIRECT_URI,
            "--first-party", "--json").stdout)
        server.cli("users", "create", "--email", EMAIL, "--password", PASSWORD, "--verified",
                   "--json")
        server.extra.update(client_id=created["client_id"],
                            client_secret=created["client_secret"])
        yield server
    finally:
        server.stop()
