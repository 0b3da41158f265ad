"""RP-Initiated Logout (app/oauth/logout.py)."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from tests.oauth.conftest import add_client
from tests.oauth.helpers import AuthorizationRequest, assert_error_page, assert_redirect_error

BYE = "http://127.0.0.1:9999/bye"


def _logout(client, method="get", **params):
    if method == "get":
        return client.get("/oauth2/logout?" + urlencode(params))
    return client.post("/oauth2/logout", data=params)


def _whoami(client):
    return client.get("/_harness/whoami").get_json()["user_id"]


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_logout_with_id_token_hint_redirects_with_state(flow, client, oauth_client, user):
    tokens = flow.tokens(oauth_client)
    assert _whoami(client) == user["id"]
    response = _logout(client, id_token_hint=tokens["id_token"],
                       post_logout_redirect_uri=BYE, state="s1")
    assert response.status_code == 302 and response.location == BYE + "?state=s1"
    assert _whoami(client) is None
    req = AuthorizationRequest(oauth_client["client_id"], oauth_client["redirect_uri"])
    assert_redirect_error(client.get(req.url(prompt="none")), req, "login_required")


def test_logout_by_post(flow, client, oauth_client):
    tokens = flow.tokens(oauth_client)
    response = _logout(client, "post", id_token_hint=tokens["id_token"],
                       post_logout_redirect_uri=BYE, client_id=oauth_client["client_id"])
    assert response.status_code == 302 and response.location == BYE
    assert _whoami(client) is None


def test_logout_without_redirect_shows_a_page(flow, client, oauth_client):
    tokens = flow.tokens(oauth_client)
    response = _logout(client, id_token_hint=tokens["id_token"])
    assert response.status_code == 200 and "signed out" in response.get_data(as_text=True)
    assert _whoami(client) is None


def test_unregistered_post_logout_redirect_uri_is_an_error_page(flow, client, oauth_client,
                                                                user):
    tokens = flow.tokens(oauth_client)
    for uri in ("https://evil.example/", oauth_client["redirect_uri"]):
        assert_error_page(_logout(client, id_token_hint=tokens["id_token"],
                                  post_logout_redirect_uri=uri))
    assert _whoami(client) == user["id"]


def test_redirect_uri_without_any_client_is_an_error_page(flow, client):
    flow.sign_in()
    assert_error_page(_logout(client, post_logout_redirect_uri=BYE))


def test_bad_hints_are_error_pages(flow, client, oauth_client, app, user):
    tokens = flow.tokens(oauth_client)
    assert_error_page(_logout(client, id_token_hint="not.a.token"))
    assert_error_page(_logout(client, id_token_hint=tokens["id_token"][:-4] + "AAAA"))
    assert_error_page(_logout(client, id_token_hint=tokens["access_token"]))
    other = add_client(app, name="Other", post_logout_redirect_uris=[BYE])
    assert_error_page(_logout(client, id_token_hint=tokens["id_token"],
                              client_id=other["client_id"]))
    assert_error_page(_logout(client, client_id="no-such-client"))
    assert _whoami(client) == user["id"]


def test_without_hint_the_user_confirms(flow, client, oauth_client, user):
    flow.sign_in()
    page = _logout(client, client_id=oauth_client["client_id"],
                   post_logout_redirect_uri=BYE, state="s2")
    assert page.status_code == 200 and _whoami(client) == user["id"]
    assert page.headers["X-Frame-Options"] == "DENY"
    html = page.get_data(as_text=True)
    assert "Test App" in html
    # no CSRF token, no logout
    refused = _logout(client, "post", client_id=oauth_client["client_id"],
                      post_logout_redirect_uri=BYE, state="s2", confirm="yes")
    assert refused.status_code == 200 and _whoami(client) == user["id"]
    done = _logout(client, "post", client_id=oauth_client["client_id"],
                   post_logout_redirect_uri=BYE, state="s2", confirm="yes",
                   csrf_token=_csrf(html))
    assert done.status_code == 302 and done.location == BYE + "?state=s2"
    assert _whoami(client) is None


def test_hint_of_another_user_asks_for_confirmation(flow, client, oauth_client, app):
    tokens = flow.tokens(oauth_client)
    from tests.oauth.conftest import add_user

    bob = add_user(app, email="bob@example.com")
    client.post("/_harness/signin", data={"user_id": bob["id"]})
    page = _logout(client, id_token_hint=tokens["id_token"])
    assert page.status_code == 200 and 'name="confirm"' in page.get_data(as_text=True)
    assert _whoami(client) == bob["id"]


def test_nobody_signed_in_needs_no_confirmation(client, oauth_client):
    response = _logout(client, client_id=oauth_client["client_id"],
                       post_logout_redirect_uri=BYE)
    assert response.status_code == 302 and response.location == BYE


def test_expired_id_token_hint_is_accepted(flow, client, oauth_client, app, user):
    import time

    from app.oauth.signing import sign_jwt

    flow.sign_in()
    with app.test_request_context():
        old = sign_jwt({"iss": "http://127.0.0.1:5000", "sub": user["id"],
                        "aud": oauth_client["client_id"], "iat": int(time.time()) - 7200,
                        "exp": int(time.time()) - 3600})
    response = _logout(client, id_token_hint=old, post_logout_redirect_uri=BYE)
    assert response.status_code == 302 and _whoami(client) is None


def test_end_everything_ends_every_session_and_token_of_the_user(app, flow, client,
                                                                  oauth_client, user):
    """The one way to sign a user out of every browser and app (hosted "sign out
    everywhere", password change and reset, the admin API and the CLI call it)."""
    from app.oauth.interaction import end_everything
    from tests.oauth.helpers import basic_auth

    tokens = flow.tokens(oauth_client)
    other_browser = app.test_client()
    Flow = type(flow)
    Flow(app, other_browser, user).sign_in()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.get("/oauth2/userinfo", headers=bearer).status_code == 200
    with app.test_request_context():
        assert end_everything(user["id"]) == 2  # both browsers
    assert client.get("/oauth2/userinfo", headers=bearer).status_code == 401
    refreshed = client.post("/oauth2/token", headers=basic_auth(
        oauth_client["client_id"], oauth_client["client_secret"]), data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert refreshed.get_json()["error"] == "invalid_grant"
    for browser in (client, other_browser):
        again = browser.get(flow.request(oauth_client).url())
        assert again.status_code == 303 and "/login?" in again.location
