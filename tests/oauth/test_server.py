"""Binding of the authorization server (app/oauth/server.py) and the ResourceProtector."""

from __future__ import annotations

from flask import jsonify

from app.extensions import authorization, require_oauth
from app.oauth.server import query_client
from tests.conftest import make_app
from tests.oauth.conftest import close_app
from tests.oauth.ui_harness import install_harness


def test_grants_are_registered_once_however_many_apps(tmp_path, postgres_schema, app):
    before = len(authorization._token_grants)
    extra = make_app(tmp_path / "second", postgres_schema)
    assert len(authorization._token_grants) == before == 3
    close_app(extra)


def test_query_client(app, oauth_client):
    with app.app_context():
        assert query_client(oauth_client["client_id"]).name == "Test App"
        for bad in (None, "", "x" * 200, "unknown"):
            assert query_client(bad) is None


def test_require_oauth_protects_views_with_our_tokens(tmp_path, postgres_schema, user):
    protected = make_app(tmp_path / "rs", postgres_schema)
    install_harness(protected)

    @protected.get("/api/whoami")
    @require_oauth("email")
    def api_whoami():
        from authlib.integrations.flask_oauth2 import current_token

        return jsonify(sub=current_token["sub"])

    from tests.oauth.conftest import Flow, add_client, add_user

    flow = Flow(protected, protected.test_client(), add_user(protected))
    oauth_client = add_client(protected, is_first_party=True)
    token = flow.tokens(oauth_client)["access_token"]
    ok = flow.client.get("/api/whoami", headers={"Authorization": "Bearer " + token})
    assert ok.status_code == 200 and ok.get_json()["sub"] == flow.user["id"]
    narrow = flow.tokens(oauth_client, flow.request(oauth_client, scope="openid"))
    refused = flow.client.get("/api/whoami",
                              headers={"Authorization": "Bearer " + narrow["access_token"]})
    assert refused.status_code == 403
    assert flow.client.get("/api/whoami", headers={
        "Authorization": "Bearer nonsense"}).status_code == 401
    close_app(protected)
