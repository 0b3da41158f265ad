"""Fixtures of the admin API tests: an admin client registered like an operator would, and
an `api` helper that gets real client_credentials tokens from /oauth2/token."""

from __future__ import annotations

import json

import pytest

from app.admin.auth import SCOPES
from app.extensions import db
from app.oauth.clients import create_client
from tests.conftest import make_app

ALL_SCOPES = tuple(SCOPES)
ATTRIBUTES = json.dumps([
    {"name": "plan", "type": "string", "enum": ["free", "pro"], "scope": "profile",
     "access_token": True},
    {"name": "seats", "type": "number", "min": 1, "max": 1000},
    {"name": "beta", "type": "boolean"},
    {"name": "renews_at", "type": "datetime"},
    {"name": "org_id", "type": "string", "mutable": False, "claim": "org", "scope": "org"},
])


class AdminApi:
    """Calls /admin/api/v1 with tokens of the admin client (cached per scope set)."""

    prefix = "/admin/api/v1"

    def __init__(self, app, client_id: str, client_secret: str) -> None:
        self.app, self.client_id, self.client_secret = app, client_id, client_secret
        self.http = app.test_client()
        self._tokens: dict[tuple[str, ...], str] = {}

    def token(self, *scopes: str) -> str:
        scopes = scopes or ALL_SCOPES
        if scopes not in self._tokens:
            response = self.http.post("/oauth2/token", data={
                "grant_type": "client_credentials", "scope": " ".join(scopes)},
                auth=(self.client_id, self.client_secret))
            assert response.status_code == 200, response.get_json()
            self._tokens[scopes] = response.get_json()["access_token"]
        return self._tokens[scopes]

    def call(self, method: str, path: str, *, scopes: tuple[str, ...] = (),
             token: str | None = None, **kwargs):
        headers = dict(kwargs.pop("headers", {}))
        headers.setdefault("Authorization", f"Bearer {token or self.token(*scopes)}")
        return self.http.open(self.prefix + path, method=method, headers=headers, **kwargs)

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, **kw):
        return self.call("POST", path, **kw)

    def patch(self, path, **kw):
        return self.call("PATCH", path, **kw)

    def put(self, path, **kw):
        return self.call("PUT", path, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)


def register_admin_client(app, scopes=ALL_SCOPES) -> tuple[str, str]:
    with app.app_context():
        new = create_client(name="Back office", grant_types=["client_credentials"],
                            scopes=list(scopes))
        db.session.commit()
        return new.client.client_id, new.client_secret


@pytest.fixture
def app(tmp_path, postgres_schema):
    """The app with declared custom attributes (overrides the top-level fixture)."""
    app = make_app(tmp_path, postgres_schema, custom_attributes=ATTRIBUTES)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def api(app) -> AdminApi:
    return AdminApi(app, *register_admin_client(app))


def assert_problem(response, status: int, *fields: str) -> dict:
    """An RFC 9457 answer with this status naming these fields."""
    assert response.status_code == status, (response.status_code, response.get_data(True))
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == status and body["title"] and body["type"]
    for field in fields:
        assert field in body.get("errors", {}), body
    assert response.headers["Cache-Control"] == "no-store"
    return body
