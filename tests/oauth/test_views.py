"""The `oauth` blueprint (app/oauth/views.py): every protocol request reaches its view
through Flask's routing, and the views' answers carry their final headers."""

from __future__ import annotations

import pytest
from flask import request_started

from tests.oauth.conftest import add_client
from tests.oauth.helpers import basic_auth, verify_jwt

DOCUMENTS = ("/.well-known/openid-configuration", "/.well-known/jwks.json")


@pytest.fixture
def endpoints(app):
    """The endpoint each request Flask dispatched was routed to."""
    seen: list[str | None] = []

    def note(sender, **extra):
        from flask import request
        seen.append(request.endpoint)

    request_started.connect(note, app)
    yield seen
    request_started.disconnect(note, app)


@pytest.fixture
def machine(app):
    return add_client(app, name="Reporter", grant_types=["client_credentials"],
                      redirect_uris=[], scopes=["reports:read", "reports:write"])


def test_hot_requests_reach_their_views_every_time(flow, client, oauth_client, machine,
                                                   endpoints):
    token = flow.tokens(oauth_client)["access_token"]
    auth = basic_auth(machine["client_id"], machine["client_secret"])
    endpoints.clear()
    for _ in range(2):  # warm documents and memoized tokens too
        client.get(DOCUMENTS[0])
        client.get(DOCUMENTS[1])
        client.get("/oauth2/userinfo", headers={"Authorization": f"Bearer {token}"})
        client.post("/oauth2/token", data={"grant_type": "client_credentials"}, headers=auth)
        client.post("/oauth2/introspect", data={"token": token}, headers=auth)
    assert endpoints == ["oauth.discovery", "oauth.jwks", "oauth.userinfo", "oauth.token",
                         "oauth.introspect"] * 2


@pytest.mark.parametrize("path", DOCUMENTS)
def test_documents_are_prebuilt_and_conditional(client, path):
    first = client.get(path)
    assert first.status_code == 200 and first.mimetype == "application/json"
    assert client.get(path).data == first.data
    etag = first.headers["ETag"]
    head = client.head(path)
    assert head.data == b"" and head.headers["Content-Length"] == str(len(first.data))
    for condition in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = client.get(path, headers={"If-None-Match": condition})
        assert again.status_code == 304 and again.data == b"", condition
        assert again.headers["ETag"] == etag and again.headers["Vary"] == "Origin"
    assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200


def test_a_token_answer_carries_its_final_headers(client, machine):
    auth = basic_auth(machine["client_id"], machine["client_secret"])
    response = client.post("/oauth2/token", headers=auth,
                           data={"grant_type": "client_credentials", "scope": "reports:read"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"
    assert response.headers["Vary"] == "Origin"
    assert b": " not in response.data and b", " not in response.data  # compact JSON
    body = response.get_json()
    assert body["scope"] == "reports:read" and body["token_type"] == "Bearer"
    assert verify_jwt(client, body["access_token"], typ="at+jwt")[1]["sub"] == \
        machine["client_id"]


@pytest.mark.parametrize("path, body", [
    ("/oauth2/token", "grant_type=client_credentials&scope=reports:read&scope=reports:write"),
    ("/oauth2/token", "grant_type=client_credentials&grant_type=client_credentials"),
    ("/oauth2/introspect", "token=a&token=b"),
    ("/oauth2/revoke", "token=a&token=b"),
])
def test_a_repeated_parameter_is_refused(client, machine, path, body):
    """RFC 6749 §3.2: parameters MUST NOT be included more than once."""
    auth = basic_auth(machine["client_id"], machine["client_secret"])
    response = client.post(path, data=body, headers=auth,
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/oauth2/token", "/oauth2/introspect", "/oauth2/revoke"])
def test_invalid_client_status_follows_the_method_used(app, client, path):
    posting = add_client(app, auth_method="client_secret_post", grant_types=[
        "client_credentials"], redirect_uris=[])
    form = {"grant_type": "client_credentials", "token": "x"}
    with_basic = client.post(path, data=form, headers=basic_auth(posting["client_id"], "no"))
    assert with_basic.status_code == 401
    assert with_basic.headers["WWW-Authenticate"] == \
        'Basic realm="http://127.0.0.1:5000", error="invalid_client"'
    in_body = client.post(path, data=dict(form, client_id=posting["client_id"],
                                          client_secret="no"))
    assert in_body.status_code == 400 and "WWW-Authenticate" not in in_body.headers
    assert with_basic.get_json()["error"] == in_body.get_json()["error"] == "invalid_client"


def test_code_exchange_and_refresh_run_once(client, flow, oauth_client):
    """Grants with side effects: a reused code is refused and revokes what it issued."""
    auth = basic_auth(oauth_client["client_id"], oauth_client["client_secret"])
    req = flow.request(oauth_client)
    code = flow.code(req)
    first = client.post("/oauth2/token", data=req.token_form(code), headers=auth)
    assert first.status_code == 200
    tokens = first.get_json()
    assert verify_jwt(client, tokens["id_token"])[1]["nonce"] == req.nonce
    rotated = client.post("/oauth2/token", headers=auth, data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    successor = rotated.get_json()["refresh_token"]
    replay = client.post("/oauth2/token", data=req.token_form(code), headers=auth)
    assert replay.status_code == 400 and replay.get_json()["error"] == "invalid_grant"
    again = client.post("/oauth2/token", headers=auth,
                        data={"grant_type": "refresh_token", "refresh_token": successor})
    assert again.status_code == 400 and again.get_json()["error"] == "invalid_grant"


def test_a_backend_failure_at_the_token_endpoint_is_503(app, client, oauth_client,
                                                        monkeypatch):
    from sqlalchemy.exc import OperationalError

    def database_down(_raw):
        raise OperationalError("SELECT", {}, Exception("connection refused"))

    auth = basic_auth(oauth_client["client_id"], oauth_client["client_secret"])
    app.config["PROPAGATE_EXCEPTIONS"] = False  # let the app's error handlers answer
    monkeypatch.setattr("app.oauth.grants.find_refresh_token", database_down)
    response = client.post("/oauth2/token", headers=auth,
                           data={"grant_type": "refresh_token", "refresh_token": "r" * 43})
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert response.get_json()["error"] == "temporarily_unavailable"
