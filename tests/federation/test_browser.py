"""Sign in with Apple in headless Chromium against live servers: Frontdesk on 127.0.0.1, the
Apple-shaped upstream on `localhost` (another site), so the form_post arrives cross-site and
the browser really withholds the SameSite=Lax session cookie from it."""

from __future__ import annotations

import json
import re

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet
from playwright.sync_api import expect, sync_playwright

from tests.e2e.support import SERVER_SETTINGS, RelyingParty, launch_chromium, run_axe
from tests.federation.apple_upstream import CLIENT_ID, KEY_ID, TEAM_ID, AppleUpstream
from tests.live import TEST_DATABASE_URL, drop_database, start_server
from tests.oauth.helpers import AuthorizationRequest, basic_auth

pytestmark = pytest.mark.e2e
PASSWORD = "Tangerine-Harbour-42"


@pytest.fixture(scope="module")
def apple(tmp_path_factory):
    key = ECKey.generate_key("P-256")
    path = tmp_path_factory.mktemp("apple") / f"AuthKey_{KEY_ID}.p8"
    path.write_bytes(key.as_pem(private=True))
    upstream = AppleUpstream(key, host="localhost").start()
    upstream.key_path = path
    yield upstream
    upstream.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory, apple):
    live = start_server(tmp_path_factory.mktemp("main"), **SERVER_SETTINGS,
                        apple_client_id=CLIENT_ID, apple_team_id=TEAM_ID, apple_key_id=KEY_ID,
                        apple_private_key_path=str(apple.key_path), **apple.settings())
    yield live
    live.stop()
    if TEST_DATABASE_URL:
        drop_database(live.env["FRONTDESK_DATABASE_URL"])


@pytest.fixture(scope="module")
def rp():
    relying_party = RelyingParty("Photo Printer")
    yield relying_party
    relying_party.stop()


@pytest.fixture(scope="module")
def app_client(server, rp) -> dict:
    created = server.cli("clients", "create", "--name", "Photo Printer", "--redirect-uri",
                         rp.redirect_uri, "--first-party", "--json")
    return json.loads(created.stdout)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def _redeem(server, app_client, req, code) -> dict:
    response = requests.post(server.url + "/oauth2/token", data=req.token_form(code),
                             headers=basic_auth(app_client["client_id"],
                                                app_client["client_secret"]), timeout=10)
    assert response.status_code == 200, response.text
    keys = KeySet.import_key_set(requests.get(server.url + "/.well-known/jwks.json",
                                              timeout=5).json())
    return jwt.decode(response.json()["id_token"], keys, algorithms=["RS256", "ES256"]).claims


def _sign_in_with_apple(page, server, app_client, rp) -> AuthorizationRequest:
    req = AuthorizationRequest(app_client["client_id"], rp.redirect_uri)
    page.goto(req.url(server.url))
    expect(page).to_have_url(re.compile(re.escape(server.url) + r"/login\?interaction="))
    page.get_by_role("link", name="Continue with Apple").click()
    return req


def test_continue_with_apple_in_a_real_browser(page, server, app_client, rp, apple):
    apple.behaviour.user.sub = "browser-user-1"
    req = _sign_in_with_apple(page, server, app_client, rp)
    expect(page).to_have_title("Photo Printer")  # Apple's auto-submitted form_post, then back
    params = rp.last
    assert params["state"] == req.state
    claims = _redeem(server, app_client, req, params["code"])
    assert claims["amr"] == ["fed"] and claims["email"] == apple.behaviour.user.email
    assert apple.token_errors == []


def test_existing_account_is_linked_after_its_password(page, server, app_client, rp, apple):
    server.cli("users", "create", "--email", "rita@example.com", "--password", PASSWORD,
               "--verified", "--json")
    user = apple.behaviour.user
    user.sub, user.email, user.email_verified = "browser-user-2", "rita@example.com", "false"
    req = _sign_in_with_apple(page, server, app_client, rp)
    expect(page).to_have_url(re.compile(re.escape(server.url) + r"/federation/link"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Link your Apple account")
    blocking = [v for v in run_axe(page) if v["impact"] in ("serious", "critical")]
    assert blocking == [], json.dumps(blocking, indent=2)
    page.get_by_label("Password", exact=True).fill("not it")
    page.get_by_role("button", name="Link and continue").click()
    expect(page.get_by_text("That password is not right.")).to_be_visible()
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Link and continue").click()
    expect(page).to_have_title("Photo Printer")
    claims = _redeem(server, app_client, req, rp.last["code"])
    assert set(claims["amr"]) == {"fed", "pwd"} and claims["email"] == "rita@example.com"
