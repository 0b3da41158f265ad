"""Discovery and JWKS served before Flask (app/oauth/fastlane.py): the same bytes and
headers as the views, and the views take over whenever the fast lane must not answer."""

from __future__ import annotations

import pytest
from flask import request_started

from app.extensions import frontdesk_state

PATHS = ("/.well-known/openid-configuration", "/.well-known/jwks.json")


@pytest.fixture
def flask_requests(app):
    """Paths of the requests that reached Flask."""
    seen: list[str] = []

    def note(sender, **extra):
        from flask import request
        seen.append(request.path)

    request_started.connect(note, app)
    yield seen
    request_started.disconnect(note, app)


@pytest.mark.parametrize("path", PATHS)
def test_warm_documents_bypass_flask_with_identical_answers(client, flask_requests, path):
    by_view = client.get(path)
    assert flask_requests == [path]
    fast = client.get(path)
    assert flask_requests == [path], "the second GET must not reach Flask"
    assert fast.status_code == 200 and fast.data == by_view.data
    assert dict(fast.headers) == dict(by_view.headers)
    head = client.head(path)
    assert head.data == b"" and head.headers["Content-Length"] == str(len(by_view.data))
    etag = by_view.headers["ETag"]
    for condition in (etag, f'W/{etag}', f'"other", {etag}', "*"):
        again = client.get(path, headers={"If-None-Match": condition})
        assert again.status_code == 304 and again.data == b"", condition
        assert again.headers["ETag"] == etag and again.headers["Vary"] == "Origin"
    assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200
    assert flask_requests == [path]


@pytest.mark.parametrize("path", PATHS)
def test_cors_and_other_methods_go_to_the_views(client, flask_requests, path):
    client.get(path)
    client.get(path, headers={"Origin": "https://spa.example"})
    assert client.post(path).status_code == 405
    assert client.options(path).status_code == 200
    assert client.get(path + "/").status_code == 404
    assert flask_requests == [path, path, path, path, path + "/"]


def test_a_stale_key_ring_is_reloaded_by_the_view(app, client, flask_requests):
    client.get("/.well-known/jwks.json")
    with app.app_context():
        frontdesk_state().keyring.loaded_at -= 3600  # due for its periodic reload
    client.get("/.well-known/jwks.json")
    assert flask_requests == ["/.well-known/jwks.json"] * 2
    client.get("/.well-known/jwks.json")
    assert len(flask_requests) == 2  # reloaded by the view: fast again


def test_userinfo_fast_answers_equal_the_views(flow, client, oauth_client, flask_requests):
    token = flow.tokens(oauth_client)["access_token"]
    flask_requests.clear()
    for bearer in (token, token[:-4] + "AAAA", "not-a-jwt"):
        headers = {"Authorization": f"Bearer {bearer}"}
        fast = client.get("/oauth2/userinfo", headers=headers)
        assert flask_requests == []
        by_view = client.post("/oauth2/userinfo", headers=headers)  # POST: always the view
        assert flask_requests == ["/oauth2/userinfo"]
        flask_requests.clear()
        assert fast.status_code == by_view.status_code
        assert fast.get_json() == by_view.get_json()
        assert dict(fast.headers) == dict(by_view.headers)
    assert client.get("/oauth2/userinfo", headers={"Authorization": f"Bearer {token}"}
                      ).status_code == 200


def test_userinfo_cors_bodies_and_other_schemes_go_to_the_view(flow, client, oauth_client,
                                                               flask_requests):
    token = flow.tokens(oauth_client)["access_token"]
    flask_requests.clear()
    client.get("/oauth2/userinfo", headers={"Authorization": f"Bearer {token}",
                                            "Origin": "https://spa.example"})
    client.get("/oauth2/userinfo", headers={"Authorization": f"Basic {token}"})
    client.get("/oauth2/userinfo")
    client.get("/oauth2/userinfo", headers={"Authorization": f"Bearer {token}"},
               data="x=1", content_type="application/x-www-form-urlencoded")
    assert flask_requests == ["/oauth2/userinfo"] * 4


def _machine(app):
    from tests.oauth.conftest import add_client

    return add_client(app, name="Reporter", grant_types=["client_credentials"],
                      redirect_uris=[], scopes=["reports:read", "reports:write"])


def test_client_credentials_fast_answer_equals_the_views(app, client, flask_requests):
    from tests.oauth.helpers import basic_auth, verify_jwt

    machine = _machine(app)
    auth = basic_auth(machine["client_id"], machine["client_secret"])
    form = {"grant_type": "client_credentials", "scope": "reports:read"}
    fast = client.post("/oauth2/token", data=form, headers=auth)
    assert flask_requests == []
    by_view = client.post("/oauth2/token?x=1", data=form, headers=auth)  # a query: the view
    assert flask_requests == ["/oauth2/token"]
    assert fast.status_code == by_view.status_code == 200
    assert dict(fast.headers) == dict(by_view.headers)
    fast_body, view_body = fast.get_json(), by_view.get_json()
    assert fast_body.keys() == view_body.keys()
    assert fast_body["scope"] == "reports:read" and fast_body["token_type"] == "Bearer"
    fast_claims = verify_jwt(client, fast_body["access_token"], typ="at+jwt")[1]
    view_claims = verify_jwt(client, view_body["access_token"], typ="at+jwt")[1]
    assert fast_claims.keys() == view_claims.keys() and fast_claims["sub"] == machine["client_id"]


def _same_answer(fast, by_view) -> None:
    assert fast.status_code == by_view.status_code
    assert dict(fast.headers) == dict(by_view.headers)
    fast_body, view_body = fast.get_json(), by_view.get_json()
    assert fast_body.keys() == view_body.keys()
    if "error" in fast_body:
        assert fast_body == view_body


@pytest.mark.parametrize("secret, form", [
    ("wrong", {"grant_type": "client_credentials"}),
    (None, {"grant_type": "refresh_token", "refresh_token": "unknown"}),
    (None, {"grant_type": "refresh_token"}),
    (None, {"grant_type": "authorization_code", "code": "unknown",
            "redirect_uri": "http://127.0.0.1:9999/cb", "code_verifier": "v" * 43}),
])
def test_token_refusals_in_the_fast_lane_equal_the_views(app, client, flask_requests,
                                                         secret, form):
    from tests.oauth.helpers import basic_auth

    machine = _machine(app)
    auth = basic_auth(machine["client_id"], secret or machine["client_secret"])
    fast = client.post("/oauth2/token", data=form, headers=auth)
    assert flask_requests == []
    by_view = client.post("/oauth2/token?x=1", data=form, headers=auth)
    assert flask_requests == ["/oauth2/token"]
    assert fast.status_code >= 400
    _same_answer(fast, by_view)


@pytest.mark.parametrize("case", ["origin", "duplicate", "secret_in_body", "json", "query"])
def test_odd_token_requests_go_to_the_view_with_the_body_intact(app, client, flask_requests,
                                                                 case):
    from tests.oauth.helpers import basic_auth

    machine = _machine(app)
    auth = basic_auth(machine["client_id"], machine["client_secret"])
    data: dict | str = {"grant_type": "client_credentials"}
    headers = dict(auth)
    content_type = "application/x-www-form-urlencoded"
    path = "/oauth2/token"
    if case == "origin":
        headers["Origin"] = "https://spa.example"
    elif case == "duplicate":
        data = "grant_type=client_credentials&scope=reports:read&scope=reports:write"
    elif case == "secret_in_body":
        headers = {}
        data = {"grant_type": "client_credentials", "client_id": machine["client_id"],
                "client_secret": machine["client_secret"]}
    elif case == "json":
        data, content_type = '{"grant_type": "client_credentials"}', "application/json"
    elif case == "query":
        path += "?grant_type=client_credentials"
    response = client.post(path, data=data, headers=headers, content_type=content_type)
    assert flask_requests == ["/oauth2/token"]
    expected = {"origin": 200, "duplicate": 200, "secret_in_body": 400, "json": 400,
                "query": 200}[case]
    assert response.status_code == expected, response.get_json()


def test_refresh_and_code_exchange_in_the_fast_lane(app, client, flow, oauth_client,
                                                    flask_requests):
    """The grants with side effects run once, in the fast lane, and answer like the view:
    a reused code or refresh token is refused there too."""
    from tests.oauth.helpers import basic_auth, verify_jwt

    auth = basic_auth(oauth_client["client_id"], oauth_client["client_secret"])
    req = flow.request(oauth_client)
    code = flow.code(req)
    flask_requests.clear()
    first = client.post("/oauth2/token", data=req.token_form(code), headers=auth)
    assert flask_requests == [] and first.status_code == 200
    tokens = first.get_json()
    assert verify_jwt(client, tokens["id_token"])[1]["nonce"] == req.nonce
    form = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    rotated = client.post("/oauth2/token", data=form, headers=auth)
    assert rotated.status_code == 200
    successor = rotated.get_json()["refresh_token"]
    assert successor != tokens["refresh_token"]
    replay = client.post("/oauth2/token", data=req.token_form(code), headers=auth)
    assert replay.status_code == 400 and replay.get_json()["error"] == "invalid_grant"
    # the replay revoked what the code issued, the rotated family included
    again = client.post("/oauth2/token", headers=auth,
                        data={"grant_type": "refresh_token", "refresh_token": successor})
    assert again.status_code == 400 and again.get_json()["error"] == "invalid_grant"
    assert flask_requests == []


def test_a_backend_failure_in_the_fast_lane_is_the_views_503(app, client, oauth_client,
                                                             flask_requests, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from tests.oauth.helpers import basic_auth

    def database_down(_raw):
        raise OperationalError("SELECT", {}, Exception("connection refused"))

    auth = basic_auth(oauth_client["client_id"], oauth_client["client_secret"])
    form = {"grant_type": "refresh_token", "refresh_token": "r" * 43}
    app.config["PROPAGATE_EXCEPTIONS"] = False  # let the view's error handlers answer
    monkeypatch.setattr("app.oauth.grants.find_refresh_token", database_down)
    fast = client.post("/oauth2/token", data=form, headers=auth)
    assert flask_requests == []
    by_view = client.post("/oauth2/token?x=1", data=form, headers=auth)
    assert fast.status_code == 503 and fast.headers["Retry-After"] == "5"
    _same_answer(fast, by_view)


def test_the_fast_request_carries_every_attribute_authlib_sets():
    from authlib.oauth2.rfc6749 import OAuth2Request
    from werkzeug.datastructures import MultiDict

    from app.oauth.fastlane import WSGIFormRequest

    environ = {"wsgi.url_scheme": "https", "HTTP_HOST": "id.example", "PATH_INFO": "/t",
               "HTTP_AUTHORIZATION": "Basic eDp5"}
    fast = WSGIFormRequest(environ, MultiDict({"grant_type": "client_credentials"}))
    plain = OAuth2Request("POST", "https://id.example/t")
    assert set(vars(plain)) <= set(vars(fast))
    assert fast.uri == "https://id.example/t" and fast.headers["Authorization"] == "Basic eDp5"
    assert fast.form["grant_type"] == "client_credentials" and fast.client is None


@pytest.mark.parametrize("host, secure", [
    ("id.example", False), ("127.0.0.1:5000", True), ("localhost", True),
    ("[::1]:8080", True), ("10.0.0.1", False),
])
def test_plain_http_is_refused_as_authlib_does(monkeypatch, host, secure):
    from authlib.common.security import is_secure_transport
    from authlib.oauth2.rfc6749.errors import InsecureTransportError

    from app.oauth.fastlane import _check_transport

    monkeypatch.delenv("AUTHLIB_INSECURE_TRANSPORT", raising=False)
    url = f"http://{host}/oauth2/token"
    assert is_secure_transport(url) is secure
    for _ in range(2):  # the second answer comes from the remembered one
        if secure:
            _check_transport(url)
        else:
            with pytest.raises(InsecureTransportError):
                _check_transport(url)
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
    _check_transport(url)  # the switch is part of what is remembered
    _check_transport(f"https://{host}/oauth2/token")


def test_a_plain_http_token_request_gets_the_views_refusal(app, client, flask_requests,
                                                          monkeypatch):
    from tests.oauth.helpers import basic_auth

    monkeypatch.delenv("AUTHLIB_INSECURE_TRANSPORT", raising=False)
    machine = _machine(app)
    response = client.post("/oauth2/token", data={"grant_type": "client_credentials"},
                           headers=basic_auth(machine["client_id"], machine["client_secret"]),
                           base_url="http://id.example")
    assert flask_requests == ["/oauth2/token"]  # the fast lane declined
    assert response.status_code == 400
    assert response.get_json()["error"] == "insecure_transport"
