"""The built-in demo app (app/demo/): the whole loop over real HTTP against the app itself."""

from __future__ import annotations

import re

import pytest
import requests

from app.demo import DEMO_CLIENT_ID, demo_client_secret
from app.extensions import frontdesk_state
from tests.oauth.conftest import add_user
from tests.oauth.helpers import redirect_params
from tests.oauth.serving import free_port, serving


@pytest.fixture
def served(app_with):
    port = free_port()
    app = app_with(issuer=f"http://127.0.0.1:{port}")
    user = add_user(app, email="demo@example.com", attributes={"name": "Demo User"})
    with serving(app, port) as url:
        yield app, url, user


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _sign_in(browser: requests.Session, url: str, user: dict) -> requests.Response:
    start = browser.get(url + "/demo/login", allow_redirects=False)
    assert start.status_code == 303 and "/oauth2/authorize?" in start.headers["Location"]
    to_login = browser.get(start.headers["Location"], allow_redirects=False)
    interaction = redirect_params(to_login.headers["Location"])["interaction"]
    return browser.post(url + "/_harness/login",
                        data={"interaction": interaction, "user_id": user["id"]})


def test_demo_signs_in_refreshes_and_logs_out(served):
    app, url, user = served
    browser = requests.Session()
    page = _sign_in(browser, url, user)
    assert page.status_code == 200 and page.url == url + "/demo/"
    html = page.text
    assert "Signed in as <strong>demo@example.com</strong>" in html
    assert user["id"] in html and "Demo User" in html  # ID token and userinfo shown
    assert "&#34;typ&#34;" not in html and "at+jwt" not in html  # claims, not headers
    refreshed = browser.post(url + "/demo/refresh", data={"csrf_token": _csrf(html)})
    assert refreshed.status_code == 200 and "Tokens refreshed." in refreshed.text
    out = browser.post(url + "/demo/logout", data={"csrf_token": _csrf(refreshed.text)})
    assert out.status_code == 200 and out.url.startswith(url + "/demo/?state=")
    assert "You are signed out." in out.text
    assert browser.get(url + "/_harness/whoami").json()["user_id"] is None


def test_demo_creates_its_client_with_the_derived_secret(served):
    app, url, _ = served
    requests.get(url + "/demo/login", allow_redirects=False)
    with app.app_context():
        from app.extensions import db
        from app.models import Client

        client = db.session.get(Client, DEMO_CLIENT_ID)
        assert client.secret_matches(demo_client_secret(frontdesk_state().settings))
        assert client.redirect_uris == [url + "/demo/callback"]


def test_callback_with_a_foreign_state_is_refused(served):
    _, url, _ = served
    browser = requests.Session()
    browser.get(url + "/demo/login", allow_redirects=False)
    page = browser.get(url + "/demo/callback?code=x&state=forged")
    assert "does not belong to a sign-in started here" in page.text
    again = browser.get(url + "/demo/")
    assert "does not belong" not in again.text  # errors are shown once


def test_callback_with_an_error(served):
    _, url, _ = served
    page = requests.get(url + "/demo/callback?error=access_denied&error_description=no")
    assert "access_denied: no" in page.text


def test_demo_forms_need_csrf(served):
    _, url, _ = served
    assert requests.post(url + "/demo/refresh").status_code == 400


def test_demo_is_off_when_disabled(app_with):
    app = app_with(demo_enabled=False)
    assert app.test_client().get("/demo/").status_code == 404
