"""Authorization of the admin API: 401 without a valid client-credentials token (with a
WWW-Authenticate challenge), 403 without the route's scope; problem+json everywhere."""

from __future__ import annotations

import re

import pytest

from app.admin.auth import SCOPES
from app.extensions import db
from app.models import Client
from tests.admin.conftest import ALL_SCOPES, AdminApi, assert_problem, register_admin_client
from tests.hosted.helpers import login, start_authorization

PREFIX = "/admin/api/v1"


def admin_routes(app) -> list[tuple[str, str, str]]:
    """(method, concrete path, required scope) of every admin route but the document."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX) or rule.endpoint == "admin.openapi":
            continue
        view = app.view_functions[rule.endpoint]
        path = re.sub(r"<(\w+)>", "x", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((method, path, view.required_scope))
    return routes


def test_every_route_demands_a_known_scope(app):
    routes = admin_routes(app)
    assert len(routes) >= 25
    assert {scope for _, _, scope in routes} == set(SCOPES)


def test_no_token_is_401_with_a_challenge(app, client):
    for method, path, _ in admin_routes(app):
        response = client.open(path, method=method, json={})
        body = assert_problem(response, 401)
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="frontdesk-admin"'
        assert body["instance"] == path


@pytest.mark.parametrize("header, error", [
    ("Bearer not-a-jwt", "invalid_token"),
    ("Bearer a.b.c", "invalid_token"),
    ("Basic YWRtaW46YWRtaW4=", "invalid_request"),
    ("Bearer", "invalid_request"),
    ("Bearer two tokens", "invalid_request"),
])
def test_bad_tokens_are_401(client, header, error):
    response = client.get(f"{PREFIX}/users", headers={"Authorization": header})
    assert_problem(response, 401)
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="frontdesk-admin"')
    assert f'error="{error}"' in challenge


def test_wrong_scope_is_403_on_every_route(app, api):
    for method, path, scope in admin_routes(app):
        others = tuple(s for s in ALL_SCOPES if s != scope)
        response = api.call(method, path[len(PREFIX):], scopes=others, json={})
        assert_problem(response, 403)
        assert response.headers["WWW-Authenticate"] == (
            f'Bearer realm="frontdesk-admin", error="insufficient_scope", scope="{scope}"')


def test_token_of_a_client_without_admin_scopes_is_403(app):
    weak = AdminApi(app, *register_admin_client(app, scopes=["some:other"]))
    response = weak.get("/users", scopes=("some:other",))
    assert_problem(response, 403)


def test_revoked_token_is_401(api):
    token = api.token()
    assert api.get("/users", token=token).status_code == 200
    revoked = api.http.post("/oauth2/revoke", data={"token": token},
                            auth=(api.client_id, api.client_secret))
    assert revoked.status_code == 200
    assert_problem(api.get("/users", token=token), 401)


def test_deleted_client_or_withdrawn_scope_takes_effect_at_once(app, api):
    token = api.token()
    with app.app_context():
        client = db.session.get(Client, api.client_id)
        client.scopes = ["admin:users:read"]
        db.session.commit()
    assert api.get("/users", token=token).status_code == 200
    assert_problem(api.get("/groups", token=token), 403)
    with app.app_context():
        db.session.delete(db.session.get(Client, api.client_id))
        db.session.commit()
    assert_problem(api.get("/users", token=token), 401)


def test_user_access_token_is_refused(app, client, user, oauth_client):
    """A token issued to a user (authorization code) is not an admin credential, even if
    its client holds admin scopes."""
    with app.app_context():
        db.session.get(Client, oauth_client["client_id"]).scopes = [
            "openid", "admin:users:read"]
        db.session.commit()
    req, interaction, _ = start_authorization(client, oauth_client,
                                              scope="openid admin:users:read")
    back = login(client, user["email"], user["password"], interaction)
    assert back.status_code == 303
    code = dict(p.split("=", 1) for p in back.location.split("?", 1)[1].split("&"))["code"]
    tokens = client.post("/oauth2/token", data=req.token_form(code),
                         auth=(oauth_client["client_id"], oauth_client["client_secret"]))
    access = tokens.get_json()["access_token"]
    response = client.get(f"{PREFIX}/users", headers={"Authorization": f"Bearer {access}"})
    body = assert_problem(response, 401)
    assert "client_credentials" in body["detail"]


def test_routing_errors_under_the_api_are_problems(api, client):
    assert_problem(client.get(f"{PREFIX}/nothing-here"), 404)
    response = client.delete(f"{PREFIX}/openapi.json")
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]
    page = client.get("/nothing-here")  # elsewhere the app's own error page stays
    assert page.status_code == 404 and page.mimetype != "application/problem+json"


def test_openapi_document_needs_no_token(client):
    response = client.get(f"{PREFIX}/openapi.json")
    assert response.status_code == 200 and response.get_json()["openapi"] == "3.1.0"
