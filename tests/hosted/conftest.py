"""`custom_app`: an app with its own settings, disposed after the test."""

from __future__ import annotations

import pytest

from tests.hosted.helpers import custom_apps


@pytest.fixture
def custom_app(tmp_path, postgres_schema):
    yield from custom_apps(tmp_path, postgres_schema)
