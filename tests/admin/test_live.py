"""End to end on real servers: an admin client made with the CLI manages users and groups
through the API as the OpenAPI document says; users exported from one server's database and
imported into another's sign in there with their old passwords."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
import requests

from tests.live import start_server

SCOPES = ["admin:users:read", "admin:users:write", "admin:groups"]
CSRF_RE = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture
def servers(tmp_path):
    started = []

    def start(**settings):
        started.append(start_server(tmp_path, **settings))
        return started[-1]

    yield start
    for server in started:
        server.stop()


def admin_session(server) -> requests.Session:
    args = ["clients", "create", "--name", "Back office", "--grant-type", "client_credentials",
            "--json"] + [arg for scope in SCOPES for arg in ("--scope", scope)]
    created = json.loads(server.cli(*args).stdout)
    token = requests.post(server.url + "/oauth2/token", timeout=10, data={
        "grant_type": "client_credentials", "scope": " ".join(SCOPES)},
        auth=(created["client_id"], created["client_secret"]))
    assert token.status_code == 200, token.text
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    return session


def password_login(server, email: str, password: str) -> requests.Response:
    browser = requests.Session()
    page = browser.get(server.url + "/login", timeout=10)
    token = unescape(CSRF_RE.search(page.text).group(1))
    return browser.post(server.url + "/login", timeout=10, allow_redirects=False,
                        data={"email": email, "password": password, "csrf_token": token})


def test_cli_admin_client_manages_users_and_users_move_between_servers(servers, tmp_path):
    first = servers()
    api = admin_session(first)
    base = first.url + "/admin/api/v1"
    document = requests.get(base + "/openapi.json", timeout=10).json()
    assert document["servers"] == [{"url": base}]
    assert "/users" in document["paths"] and "/groups/{group_name}/members/{user_id}" in \
        document["paths"]

    assert api.post(base + "/groups", json={"name": "admins", "precedence": 1},
                    timeout=10).status_code == 201
    created = api.post(base + "/users", timeout=10, json={
        "email": "erin@example.com", "email_verified": True,
        "password": "erin's old password 1", "attributes": {"name": "Erin"}})
    assert created.status_code == 201, created.text
    user_id = created.json()["id"]
    assert api.put(f"{base}/groups/admins/members/{user_id}", timeout=10).status_code == 204
    listed = api.get(base + "/users", params={"group": "admins"}, timeout=10).json()
    assert [u["email"] for u in listed["users"]] == ["erin@example.com"]
    denied = api.get(base + "/clients", timeout=10)
    assert denied.status_code == 403
    assert denied.headers["Content-Type"] == "application/problem+json"
    assert password_login(first, "erin@example.com", "erin's old password 1"
                          ).status_code == 303

    export = tmp_path / "users.jsonl"
    first.cli("users", "export", "-o", str(export))
    first.stop()

    second = servers()
    summary = json.loads(second.cli("users", "import", str(export), "--json").stdout)
    assert (summary["created"], summary["failed"]) == (2, 0)  # the group and the user
    assert password_login(second, "erin@example.com", "wrong password").status_code == 200
    assert password_login(second, "erin@example.com", "erin's old password 1"
                          ).status_code == 303
    api = admin_session(second)
    moved = api.get(f"{second.url}/admin/api/v1/users/{user_id}", timeout=10).json()
    assert moved["email"] == "erin@example.com" and moved["groups"] == ["admins"]
