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
