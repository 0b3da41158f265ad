"""Groups, custom attributes and pre_token_generation in real tokens: a user managed through
the admin API signs in on the hosted login page, the client exchanges the code, and the ID
token, access token and userinfo carry what was configured."""

from __future__ import annotations

import json

import pytest

from app.extensions import db
from app.oauth.clients import create_client
from tests.admin.conftest import ATTRIBUTES, AdminApi, register_admin_client
from tests.conftest import make_app
from tests.hosted.helpers import login, start_authorization
from tests.oauth.helpers import redirect_params, verify_jwt

PASSWORD = "a perfectly fine password 42"


def add_claims(event):
    """pre_token_generation target (dotted path in the settings)."""
    if event["user_id"] is None:  # client_credentials
        return {"claims_to_add_or_override": {"machine": True}}
    return {"claims_to_add_or_override": {"tier": "gold", "seen_groups": event["groups"]},
            "claims_to_suppress": ["nickname"],
            "access_token": {"claims_to_add_or_override": {"api_quota": 100}}}


@pytest.fixture
def app(tmp_path, postgres_schema):
    app = make_app(tmp_path, postgres_schema, custom_attributes=ATTRIBUTES,
                   groups_claim="roles",
                   trigger_pre_token_generation="tests.admin.test_tokens:add_claims")
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def web_client(app) -> dict:
    with app.app_context():
        new = create_client(name="Web", redirect_uris=["http://127.0.0.1:9999/cb"],
                            scopes=["openid", "profile", "email", "org"], is_first_party=True)
        db.session.commit()
        return {"client_id": new.client.client_id, "client_secret": new.client_secret,
                "redirect_uri": "http://127.0.0.1:9999/cb"}


def sign_in_and_get_tokens(client, oauth_client: dict, email: str, scope: str) -> dict:
    req, interaction, _ = start_authorization(client, oauth_client, scope=scope)
    back = login(client, email, PASSWORD, interaction)
    assert back.status_code == 303, back.get_data(as_text=True)[:500]
    code = redirect_params(back)["code"]  # straight from the login post to the client
    response = client.post("/oauth2/token", data=req.token_form(code),
                           auth=(oauth_client["client_id"], oauth_client["client_secret"]))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_groups_attributes_and_trigger_claims_in_real_tokens(app, client, web_client):
    api = AdminApi(app, *register_admin_client(app))
    for name, precedence in (("viewers", 20), ("admins", 1), ("editors", 5)):
        assert api.post("/groups", json={"name": name, "precedence": precedence}
                        ).status_code == 201
    created = api.post("/users", json={
        "email": "dana@example.com", "email_verified": True, "password": PASSWORD,
        "groups": ["viewers", "admins"],
        "attributes": {"name": "Dana", "nickname": "D", "plan": "pro", "org_id": "acme"}})
    assert created.status_code == 201, created.get_json()
    user_id = created.get_json()["id"]
    assert api.put(f"/groups/editors/members/{user_id}").status_code == 204

    tokens = sign_in_and_get_tokens(client, web_client, "dana@example.com",
                                    "openid profile email org")
    _, id_token = verify_jwt(client, tokens["id_token"])
    _, access = verify_jwt(client, tokens["access_token"], typ="at+jwt")

    assert id_token["sub"] == user_id and id_token["aud"] == web_client["client_id"]
    assert id_token["roles"] == ["admins", "editors", "viewers"]
    assert id_token["tier"] == "gold" and id_token["seen_groups"] == id_token["roles"]
    assert id_token["plan"] == "pro" and id_token["org"] == "acme"
    assert id_token["name"] == "Dana" and "nickname" not in id_token
    assert "api_quota" not in id_token
    assert access["roles"] == ["admins", "editors", "viewers"]
    assert access["tier"] == "gold" and access["api_quota"] == 100
    assert access["plan"] == "pro" and "org" not in access  # only plan asks for access tokens

    info = client.get("/oauth2/userinfo",
                      headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert info.status_code == 200
    claims = info.get_json()
    assert claims["sub"] == user_id and claims["plan"] == "pro" and claims["org"] == "acme"
    assert claims["roles"] == ["admins", "editors", "viewers"]

    # membership changes show in the next tokens
    api.delete(f"/groups/admins/members/{user_id}")
    api.patch("/groups/viewers", json={"precedence": 0})
    browser = app.test_client()  # a new browser signs in again
    again = sign_in_and_get_tokens(browser, web_client, "dana@example.com", "openid")
    _, id_token = verify_jwt(browser, again["id_token"])
    assert id_token["roles"] == ["viewers", "editors"] and "plan" not in id_token


def test_client_credentials_token_gets_trigger_claims_but_keeps_protected_ones(app):
    admin_id, secret = register_admin_client(app)
    api = AdminApi(app, admin_id, secret)
    _, access = verify_jwt(api.http, api.token("admin:users:read"), typ="at+jwt")
    assert access["machine"] is True
    assert access["sub"] == admin_id == access["client_id"]
    assert access["scope"] == "admin:users:read"


def test_a_failing_pre_token_trigger_denies_the_token(tmp_path, postgres_schema):
    app = make_app(tmp_path, postgres_schema,
                   trigger_pre_token_generation="tests.test_triggers:broken")
    try:
        client_id, secret = register_admin_client(app)
        response = app.test_client().post("/oauth2/token", data={
            "grant_type": "client_credentials"}, auth=(client_id, secret))
        assert response.status_code == 400
        assert response.get_json()["error"] == "invalid_grant"
        assert "hunter2" not in json.dumps(response.get_json())
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
