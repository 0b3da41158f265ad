"""Admin API: OAuth clients and secret rotation."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import AuditEvent
from tests.admin.conftest import assert_problem

WEB = {"name": "Web shop", "redirect_uris": ["https://shop.example/cb"],
       "post_logout_redirect_uris": ["https://shop.example/"], "scopes": ["openid", "email"]}


def test_create_get_list_update_delete(app, api):
    response = api.post("/clients", json=WEB | {"first_party": True,
                                                "access_token_seconds": 600})
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    client_id = created["client_id"]
    assert response.headers["Location"].endswith(f"/admin/api/v1/clients/{client_id}")
    assert created["client_secret"] and created["public"] is False
    assert created["grant_types"] == ["authorization_code", "refresh_token"]
    assert created["token_endpoint_auth_method"] == "client_secret_basic"
    assert created["access_token_seconds"] == 600 and created["first_party"] is True
    got = api.get(f"/clients/{client_id}").get_json()
    assert got == {k: v for k, v in created.items() if k != "client_secret"}
    listed = api.get("/clients").get_json()["clients"]
    assert {c["client_id"] for c in listed} == {client_id, api.client_id}
    changed = api.patch(f"/clients/{client_id}", json={
        "name": "Web shop 2", "redirect_uris": ["https://shop.example/cb2"],
        "logo_url": None, "refresh_token_seconds": 7200}).get_json()
    assert changed["name"] == "Web shop 2" and changed["redirect_uris"] == [
        "https://shop.example/cb2"]
    assert changed["refresh_token_seconds"] == 7200
    assert api.delete(f"/clients/{client_id}").status_code == 204
    assert_problem(api.get(f"/clients/{client_id}"), 404)
    with app.app_context():
        types = db.session.scalars(db.select(AuditEvent.type).order_by(AuditEvent.id)).all()
    assert types == ["admin.client.created", "admin.client.updated", "admin.client.deleted"]


def test_public_client_has_no_secret(api):
    created = api.post("/clients", json={"name": "SPA", "public": True,
                                         "redirect_uris": ["http://127.0.0.1:3000/cb"]})
    body = created.get_json()
    assert created.status_code == 201 and body["client_secret"] is None
    assert body["token_endpoint_auth_method"] == "none"
    assert_problem(api.post(f"/clients/{body['client_id']}/rotate-secret"), 409)


@pytest.mark.parametrize("body, field", [
    ({"name": "x", "redirect_uris": ["https://a.example/cb#frag"]}, "client"),
    ({"name": "x"}, "client"),  # the code grant needs a redirect URI
    ({"name": "x", "public": True, "grant_types": ["client_credentials"]}, "client"),
    ({"name": "x", "grant_types": ["implicit"]}, "grant_types/0"),
    ({"name": "x", "redirect_uris": ["javascript:alert(1)"]}, "client"),
    ({"name": "", "redirect_uris": ["https://a.example/cb"]}, "name"),
    ({"name": "x", "access_token_seconds": 10}, "access_token_seconds"),
    ({"name": "x", "client_id": "short"}, "client_id"),
    ({"name": "x", "scopes": ["bad scope"]}, "scopes/0"),
    ({"name": "x", "token_endpoint_auth_method": "magic"}, "token_endpoint_auth_method"),
])
def test_create_refuses_bad_bodies(api, body, field):
    assert_problem(api.post("/clients", json=body), 422, field)


def test_fixed_client_id_conflicts(api):
    body = WEB | {"client_id": "shop-client-1"}
    assert api.post("/clients", json=body).status_code == 201
    assert_problem(api.post("/clients", json=body), 409)


@pytest.mark.parametrize("body", [
    {"redirect_uris": []},  # the code grant still needs one
    {"redirect_uris": ["https://a.example/x#y"]},
    {"name": "   "},
    {"grant_types": ["client_credentials"], "public": True},
])
def test_update_keeps_the_rules(api, body):
    client_id = api.post("/clients", json=WEB).get_json()["client_id"]
    assert api.patch(f"/clients/{client_id}", json=body).status_code == 422


def test_rotate_secret(app, api):
    created = api.post("/clients", json={"name": "Worker", "grant_types": [
        "client_credentials"], "scopes": ["jobs"]}).get_json()
    client_id, old = created["client_id"], created["client_secret"]

    def token_status(secret):
        return api.http.post("/oauth2/token", data={"grant_type": "client_credentials"},
                             auth=(client_id, secret)).status_code

    assert token_status(old) == 200
    rotated = api.post(f"/clients/{client_id}/rotate-secret")
    assert rotated.status_code == 200
    new = rotated.get_json()["client_secret"]
    assert rotated.get_json()["client_id"] == client_id and new != old
    assert token_status(old) == 401 and token_status(new) == 200
    assert_problem(api.post("/clients/nothing/rotate-secret"), 404)
    with app.app_context():
        event = db.session.scalar(db.select(AuditEvent).where(
            AuditEvent.type == "admin.client.secret_rotated"))
        assert event.details == {"target_client_id": client_id}
        assert new not in str(event.details) and old not in str(event.details)
