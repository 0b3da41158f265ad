"""Fixtures of the federation tests: an Apple-shaped upstream and apps configured for it."""

from __future__ import annotations

import pytest
from joserfc.jwk import ECKey

from tests.conftest import make_app
from tests.federation.apple_upstream import CLIENT_ID, KEY_ID, TEAM_ID, AppleUpstream


@pytest.fixture
def apple_key(tmp_path):
    """A .p8 file as Apple hands it out: a PKCS#8 PEM P-256 private key."""
    key = ECKey.generate_key("P-256")
    path = tmp_path / f"AuthKey_{KEY_ID}.p8"
    path.write_bytes(key.as_pem(private=True))
    return key, path


@pytest.fixture
def apple_upstream(apple_key):
    upstream = AppleUpstream(apple_key[0]).start()
    yield upstream
    upstream.stop()


def apple_settings(upstream: AppleUpstream, key_path) -> dict:
    return {"apple_client_id": CLIENT_ID, "apple_team_id": TEAM_ID, "apple_key_id": KEY_ID,
            "apple_private_key_path": str(key_path), **upstream.settings()}


@pytest.fixture
def apple_app(tmp_path, postgres_schema, apple_upstream, apple_key):
    from app.extensions import db

    app = make_app(tmp_path, postgres_schema, **apple_settings(apple_upstream, apple_key[1]))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
