"""The protocol through the real hosted pages (/login, /consent from app/hosted), with the
contract fields: email, password, csrf_token, interaction; decision=allow|deny."""

from __future__ import annotations

import re

from tests.oauth.helpers import assert_redirect_error, redirect_params, verify_jwt


def _hidden(html: str, name: str) -> str:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    assert tag, f"no {name} on the page"
    return re.search(r'value="([^"]*)"', tag.group(0)).group(1)


def _follow(client, response):
    """Follow our own redirects (not the one to the client)."""
    while response.status_code in (302, 303) and response.location.startswith("/"):
        response = client.get(response.location)
    return response


def _log_in(client, response, email, password):
    page = _follow(client, response)
    assert page.status_code == 200 and "/login" in page.request.path
    html = page.get_data(as_text=True)
    posted = client.post(page.request.path + "?" + page.request.query_string.decode(), data={
        "email": email, "password": password, "csrf_token": _hidden(html, "csrf_token"),
        "interaction": _hidden(html, "interaction")})
    return _follow(client, posted)


def test_real_login_form_completes_the_code_flow(flow, client, oauth_client, user):
    req = flow.request(oauth_client)
    back = _log_in(client, client.get(req.url(login_hint=user["email"])), user["email"],
                   user["password"])
    assert back.status_code == 303 and back.location.startswith(oauth_client["redirect_uri"])
    params = redirect_params(back)
    tokens = flow.token(oauth_client, req.token_form(params["code"])).get_json()
    claims = verify_jwt(client, tokens["id_token"])[1]
    assert claims["sub"] == user["id"] and claims["nonce"] == req.nonce
    assert "pwd" in claims["amr"]


def test_login_hint_prefills_the_form(flow, client, oauth_client):
    page = _follow(client, client.get(flow.request(oauth_client).url(
        login_hint="hint@example.com")))
    assert 'value="hint@example.com"' in page.get_data(as_text=True)


def test_wrong_password_stays_on_the_login_page(flow, client, oauth_client, user):
    response = _log_in(client, client.get(flow.request(oauth_client).url()), user["email"],
                       "not the password")
    assert response.status_code in (200, 400, 401)
    assert "Location" not in response.headers


def test_real_consent_page_allow_and_deny(flow, client, third_party_client, user):
    req = flow.request(third_party_client)
    page = _log_in(client, client.get(req.url()), user["email"], user["password"])
    assert page.status_code == 200 and "/consent" in page.request.path
    html = page.get_data(as_text=True)
    decided = client.post(page.request.full_path, data={
        "csrf_token": _hidden(html, "csrf_token"), "interaction": _hidden(html, "interaction"),
        "decision": "deny"})
    assert_redirect_error(_follow(client, decided), req, "access_denied")
    again = flow.request(third_party_client)
    page = _follow(client, client.get(again.url()))
    html = page.get_data(as_text=True)
    allowed = _follow(client, client.post(page.request.full_path, data={
        "csrf_token": _hidden(html, "csrf_token"), "interaction": _hidden(html, "interaction"),
        "decision": "allow"}))
    assert "code" in redirect_params(allowed)
