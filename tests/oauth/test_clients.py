"""Client registration rules (app/oauth/clients.py) and the Client model's protocol
methods (redirect URI matching, scopes, auth methods)."""

from __future__ import annotations

import pytest

from app.models import Client
from app.oauth.clients import ClientError, create_client


@pytest.mark.parametrize("options, message", [
    ({"name": ""}, "needs a name"),
    ({"grant_types": ["password"]}, "unknown grant type"),
    ({"is_public": True, "auth_method": "client_secret_basic"}, "public client"),
    ({"auth_method": "none"}, "only for public clients"),
    ({"is_public": True, "grant_types": ["client_credentials"]}, "cannot use"),
    ({"redirect_uris": []}, "at least one redirect URI"),
    ({"redirect_uris": ["https://x.example/cb#frag"]}, "fragment"),
    ({"redirect_uris": ["https://*.example/cb"]}, "wildcards"),
    ({"redirect_uris": ["javascript:alert(1)"]}, "scheme not allowed"),
])
def test_invalid_registrations(app, options, message):
    values = {"name": "App", "redirect_uris": ["https://x.example/cb"]} | options
    with app.app_context(), pytest.raises(ClientError, match=message):
        create_client(**values)


def test_public_client_has_no_secret(app):
    with app.app_context():
        new = create_client(name="SPA", redirect_uris=["https://spa.example/cb"], is_public=True)
        assert new.client_secret is None and new.client.token_endpoint_auth_method == "none"


def test_generated_client_ids_are_distinct_letters_and_digits(app):
    """Ids are pasted into shells and URLs: one starting with '-' once broke `clients delete`."""
    with app.app_context():
        ids = {create_client(name="App", grant_types=["client_credentials"]).client.client_id
               for _ in range(200)}
    assert len(ids) == 200
    assert all(len(i) == 24 and i.isascii() and i.isalnum() for i in ids)


def _client(**values) -> Client:
    defaults = {"client_id": "c", "name": "C", "grant_types": ["authorization_code"],
                "scopes": ["openid", "email"]}
    return Client(**(defaults | values))


def test_redirect_uri_matching():
    web = _client(redirect_uris=["https://app.example/cb", "http://127.0.0.1:3000/cb"],
                  is_public=False)
    assert web.check_redirect_uri("https://app.example/cb")
    for uri in ("https://app.example/cb/", "https://APP.example/cb", "https://app.example/cb?x",
                "http://127.0.0.1:3001/cb", None, ""):
        assert not web.check_redirect_uri(uri)
    native = _client(redirect_uris=["http://127.0.0.1/cb", "http://[::1]:8080/cb",
                                    "http://localhost/cb"], is_public=True)
    for uri in ("http://127.0.0.1:49152/cb", "http://[::1]:1/cb", "http://localhost:7/cb"):
        assert native.check_redirect_uri(uri)
    for uri in ("http://127.0.0.1:49152/other", "https://127.0.0.1:49152/cb",
                "http://127.0.0.2:80/cb", "http://127.0.0.1:99999/cb",
                "http://127.0.0.1:1/cb#x"):
        assert not native.check_redirect_uri(uri)


def test_allowed_scope():
    client = _client()
    assert client.get_allowed_scope("email openid email junk") == "email openid"
    assert client.get_allowed_scope(None) == ""
    assert client.get_allowed_scope("junk") is None


def test_auth_method_and_grants():
    client = _client(token_endpoint_auth_method="client_secret_post", is_public=False)
    assert client.check_endpoint_auth_method("client_secret_post", "token")
    assert not client.check_endpoint_auth_method("client_secret_basic", "token")
    assert client.check_response_type("code") and not client.check_response_type("token")
    assert not client.check_grant_type("refresh_token")
    public = _client(is_public=True, grant_types=["client_credentials"])
    assert not public.check_grant_type("client_credentials")
