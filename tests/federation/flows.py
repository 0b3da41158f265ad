"""Driving a federated login through the real endpoints: the app's authorization request,
the upstream round trip, the resume, the token exchange. Importable by federation tests."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import requests

from tests.federation.apple_upstream import form_fields
from tests.oauth.helpers import (
    AuthorizationRequest,
    basic_auth,
    interaction_id,
    redirect_params,
    verify_jwt,
)

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def begin_authorization(client, oauth_client: dict) -> tuple[AuthorizationRequest, str]:
    """The app sends the browser to /oauth2/authorize; returns the request and interaction."""
    req = AuthorizationRequest(oauth_client["client_id"], oauth_client["redirect_uri"])
    response = client.get(req.url())
    assert response.status_code in (302, 303) and "/login?" in response.location
    return req, interaction_id(response)


def follow_to_app(client, response, redirect_uri: str) -> dict[str, str]:
    """Follow Frontdesk's redirects until the browser lands at the app; its query params."""
    for _ in range(10):
        assert response.status_code in (302, 303), (response.status_code,
                                                     response.get_data(as_text=True)[:500])
        if response.location.startswith(redirect_uri):
            return redirect_params(response)
        response = client.get(response.location)
    raise AssertionError("too many redirects")


def exchange_code(client, oauth_client: dict, req: AuthorizationRequest,
                  code: str) -> tuple[dict, dict]:
    """The app's token request; returns the token response and the verified ID token claims."""
    response = client.post("/oauth2/token", data=req.token_form(code),
                           headers=basic_auth(oauth_client["client_id"],
                                              oauth_client["client_secret"]))
    assert response.status_code == 200, response.get_json()
    tokens = response.get_json()
    _, claims = verify_jwt(client, tokens["id_token"])
    assert claims["nonce"] == req.nonce
    return tokens, claims


def apple_round_trip(app, client, interaction: str | None = None,
                     edit_fields=None):
    """Start -> Apple's page -> its auto-submitted form POSTed cross-site (no cookies) ->
    303 -> the same-site GET of the callback; returns that GET's response."""
    start = client.get("/federation/apple/start" + (f"?interaction={interaction}"
                                                     if interaction else ""))
    assert start.status_code == 303, start.get_data(as_text=True)[:500]
    page = requests.get(start.location, timeout=5)
    assert page.status_code == 200, page.text
    action, fields = form_fields(page.text)
    if edit_fields:
        edit_fields(fields)
    cross_site = app.test_client()  # a fresh cookie jar: SameSite=Lax cookies stay home
    posted = cross_site.post(urlsplit(action).path, data=fields)
    if posted.status_code != 303:
        return posted
    assert "Set-Cookie" not in posted.headers
    return client.get(posted.location)


def csrf_token(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, html[:1000]
    return match.group(1)
