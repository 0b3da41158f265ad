"""Liveness (/healthz) and readiness (/readyz) in process; tests/test_outage.py takes real
servers away."""

from __future__ import annotations

import pytest

from app import create_app
from app.extensions import db, frontdesk_state
from app.store import RedisStore
from tests.conftest import base_config
from tests.live import free_port


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    assert client.head("/healthz").status_code == 200


def test_readyz_ok(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "down": [],
                             "checks": {"database": "ok", "store": "ok"}}
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_names_the_store_when_it_is_down(app, client):
    frontdesk_state(app).store = RedisStore(f"redis://127.0.0.1:{free_port()}/0")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "down": ["store"],
                             "checks": {"database": "ok", "store": "down"}}
    assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize("redis", [False, True])
def test_readyz_names_the_database_when_it_is_down(tmp_path, redis):
    from tests.conftest import STORE_REDIS_URL

    down = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/x"
    app = create_app(base_config(tmp_path, database_url=down, redis_url=""))
    if redis:
        frontdesk_state(app).store = RedisStore(STORE_REDIS_URL, "fdhealthtest:")
    client = app.test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    # The embedded store lives in the database, so it is down with it.
    assert response.json["down"] == (["database"] if redis else ["database", "store"])
    assert client.get("/healthz").status_code == 200
    with app.app_context():
        db.engine.dispose()


def test_probes_accept_only_get(client):
    assert client.post("/readyz").status_code == 405
    assert client.post("/healthz").status_code == 405
