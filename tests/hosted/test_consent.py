"""/consent: third-party clients ask; Allow finishes, Deny aborts with access_denied."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.oauth.clients import create_client
from tests.hosted.helpers import csrf_token, login, query, start_authorization, text


@pytest.fixture
def third_party(app):
    with app.app_context():
        new = create_client(name="Photo Printer", redirect_uris=["http://127.0.0.1:9999/cb"],
                            logo_url="https://cdn.example.com/logo.png")
        db.session.commit()
        return {"client_id": new.client.client_id, "redirect_uri": "http://127.0.0.1:9999/cb"}


def to_consent(client, user, third_party):
    req, interaction, _ = start_authorization(client, third_party,
                                              scope="openid profile email offline_access")
    signed_in = login(client, user["email"], user["password"], interaction)
    assert signed_in.status_code == 303 and signed_in.location.startswith("/consent?")
    return req, signed_in.location


def test_consent_page_shows_client_and_scopes(client, user, third_party):
    _, location = to_consent(client, user, third_party)
    page = client.get(location)
    body = text(page)
    assert page.status_code == 200
    assert "Photo Printer wants to access your account" in body
    assert 'src="https://cdn.example.com/logo.png"' in body
    for words in ("See your e-mail address", "See your name and profile details",
                  "Keep access when you are not using the app"):
        assert words in body
    assert 'name="decision" value="allow"' in body and 'name="decision" value="deny"' in body
    assert user["email"] in body


def test_allow_returns_a_code(client, user, third_party):
    req, location = to_consent(client, user, third_party)
    page = client.get(location)
    response = client.post(location, data={"csrf_token": csrf_token(page),
                                           "interaction": query(location)["interaction"],
                                           "decision": "allow"})
    assert response.status_code == 303  # straight to the client: no resume hop after a POST
    assert response.location.startswith(third_party["redirect_uri"])
    assert query(response.location)["code"] and query(response.location)["state"] == req.state
    assert client.post(location, data={"csrf_token": csrf_token(page), "decision": "allow",
                                       "interaction": query(location)["interaction"]}
                       ).status_code == 400  # the interaction is used up


def test_deny_returns_access_denied(client, user, third_party):
    req, location = to_consent(client, user, third_party)
    page = client.get(location)
    response = client.post(location, data={"csrf_token": csrf_token(page),
                                           "interaction": query(location)["interaction"],
                                           "decision": "deny"})
    assert response.status_code == 303 and response.location.startswith(
        third_party["redirect_uri"])
    assert query(response.location)["error"] == "access_denied"
    assert query(response.location)["state"] == req.state


def test_consent_without_interaction_is_the_expired_page(client, user):
    login(client, user["email"], user["password"])
    response = client.get("/consent")
    assert response.status_code == 400 and "expired" in text(response)


def test_consent_needs_a_signed_in_browser(app, client, user, third_party):
    _, location = to_consent(client, user, third_party)
    client.post("/account/sessions/end", data={"csrf_token": csrf_token(client.get("/account"))})
    response = client.get(location)
    assert response.status_code in (303, 400)
