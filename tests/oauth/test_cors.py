"""CORS on discovery, JWKS, token, userinfo and revoke (app/oauth/cors.py)."""

from __future__ import annotations

import pytest

from tests.oauth.conftest import add_client

SPA = "https://spa.example.com"
CORS_PATHS = ["/.well-known/openid-configuration", "/.well-known/jwks.json", "/oauth2/token",
              "/oauth2/userinfo", "/oauth2/revoke"]


@pytest.mark.parametrize("path", CORS_PATHS)
def test_preflight_for_a_public_client_origin(client, public_client, path):
    response = client.options(path, headers={
        "Origin": SPA, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == SPA
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in response.headers["Access-Control-Allow-Headers"]
    assert "Origin" in response.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in response.headers


@pytest.mark.parametrize("path", CORS_PATHS)
def test_unknown_origin_gets_no_cors(client, public_client, path):
    response = client.options(path, headers={"Origin": "https://evil.example",
                                             "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_actual_token_request_from_the_spa(flow, client, public_client):
    req = flow.request(dict(public_client, redirect_uri="https://spa.example.com/cb"))
    form = req.token_form(flow.code(req))
    form["client_id"] = public_client["client_id"]
    response = client.post("/oauth2/token", data=form, headers={"Origin": SPA})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == SPA
    userinfo = client.get("/oauth2/userinfo", headers={
        "Origin": SPA, "Authorization": "Bearer " + response.get_json()["access_token"]})
    assert userinfo.headers["Access-Control-Allow-Origin"] == SPA
    bad = client.get("/oauth2/userinfo", headers={"Origin": SPA})
    assert bad.status_code == 401
    assert "WWW-Authenticate" in bad.headers["Access-Control-Expose-Headers"]


def test_confidential_client_origins_are_not_allowed(client, oauth_client):
    response = client.options("/oauth2/token", headers={"Origin": "http://127.0.0.1:9999"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_configured_origins(app_with):
    app = app_with(cors_origins="https://app.example.org, https://other.example.org")
    response = app.test_client().get("/.well-known/jwks.json",
                                     headers={"Origin": "https://other.example.org"})
    assert response.headers["Access-Control-Allow-Origin"] == "https://other.example.org"


def test_new_public_client_is_allowed_at_once(client, app):
    assert "Access-Control-Allow-Origin" not in client.options(
        "/oauth2/token", headers={"Origin": "https://late.example"}).headers
    add_client(app, name="Late SPA", is_public=True, redirect_uris=["https://late.example/cb"])
    response = client.options("/oauth2/token", headers={"Origin": "https://late.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "https://late.example"


@pytest.mark.parametrize("path", ["/oauth2/authorize", "/oauth2/introspect", "/oauth2/logout"])
def test_other_endpoints_never_answer_cors(client, public_client, path):
    response = client.options(path, headers={"Origin": SPA})
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.fixture
def other_app(tmp_path):
    """A second app on the same database and store: another worker process."""
    from app import create_app
    from tests.conftest import base_config
    from tests.oauth.conftest import close_app

    other = create_app(base_config(tmp_path))
    other.config["TESTING"] = True
    yield other
    close_app(other)


def _allowed(test_client, origin: str) -> bool:
    response = test_client.options("/oauth2/token", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST"})
    return response.headers.get("Access-Control-Allow-Origin") == origin


@pytest.mark.parametrize("change", ["patch", "delete"])
def test_admin_changes_to_a_public_client_reach_cors_at_the_next_request(app, client,
                                                                         other_app, change):
    """Both this process and another one sharing the database and store stop allowing the
    old origin at their next request after PATCH or DELETE (no minute-long cache)."""
    from tests.admin.conftest import AdminApi, register_admin_client
    from tests.oauth.test_client_cache import announced_to, mirror_live

    api = AdminApi(app, *register_admin_client(app))
    other = other_app.test_client()
    mirror_live(other_app)
    created = api.post("/clients", json={"name": "SPA", "public": True,
                                         "redirect_uris": [f"{SPA}/cb"]}).get_json()
    announced_to(other_app)
    assert _allowed(client, SPA) and _allowed(other, SPA)  # and now cached in both
    assert _allowed(client, SPA) and _allowed(other, SPA)
    path = f"/clients/{created['client_id']}"
    if change == "patch":
        moved = api.patch(path, json={"redirect_uris": ["https://moved.example/cb"]})
        assert moved.status_code == 200, moved.get_json()
    else:
        assert api.delete(path).status_code == 204
    announced_to(other_app)
    assert not _allowed(client, SPA) and not _allowed(other, SPA)
    assert _allowed(client, "https://moved.example") is (change == "patch")
    assert _allowed(other, "https://moved.example") is (change == "patch")
