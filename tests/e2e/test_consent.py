"""The consent page for a third-party client: Allow issues a code (and is remembered), Deny
sends access_denied to the client's redirect URI."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.steps import authorization, fill_login, open_authorization
from tests.e2e.support import BackgroundCommand, RelyingParty

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def rp():
    relying_party = RelyingParty("Photo Printer")
    yield relying_party
    relying_party.stop()


@pytest.fixture(scope="module")
def third_party(server, rp) -> dict:
    """A confidential client that is not first-party: it gets the consent page."""
    return BackgroundCommand(server, "clients", "create", "--name", "Photo Printer",
                             "--redirect-uri", rp.redirect_uri).result()


def reach_consent(page, server, third_party, rp, user: dict, **extra):
    req = authorization(server, third_party["client_id"], rp.redirect_uri, **extra)
    open_authorization(page, server, req)
    fill_login(page, user["email"], user["password"])
    return req


def test_consent_page_names_the_client_and_scopes_in_plain_words(page, server, third_party,
                                                                  rp, demo):
    reach_consent(page, server, third_party, rp, demo)
    expect(page).to_have_url(re.compile(re.escape(server.url) + r"/consent\?interaction=[\w-]+$"))
    expect(page).to_have_title("Allow access · Frontdesk")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Photo Printer wants to access your account")
    expect(page.get_by_text(f"Signed in as {demo['email']}")).to_be_visible()
    scopes = page.locator("#fd-scopes li")
    expect(scopes).to_have_text(["Sign you in with your account",
                                 "See your name and profile details",
                                 "See your e-mail address"])
    expect(page.get_by_role("button", name="Allow")).to_be_visible()
    expect(page.get_by_role("button", name="Deny")).to_be_visible()


def test_allow_returns_a_code_that_redeems_and_is_remembered(page, server, third_party, rp,
                                                              demo):
    req = reach_consent(page, server, third_party, rp, demo)
    page.get_by_role("button", name="Allow").click()
    expect(page).to_have_title("Photo Printer")
    params = rp.last
    assert params["state"] == req.state
    assert params["iss"] == server.url
    assert "error" not in params
    assert "referer" not in rp.last_headers, "the consent page URL leaked to the client"

    tokens = requests.post(server.url + "/oauth2/token", data=req.token_form(params["code"]),
                           auth=(third_party["client_id"], third_party["client_secret"]),
                           timeout=10)
    assert tokens.status_code == 200, tokens.text
    assert {"id_token", "access_token"} <= tokens.json().keys()

    # Same client, same scopes: no second consent page.
    again = authorization(server, third_party["client_id"], rp.redirect_uri)
    open_authorization(page, server, again)
    expect(page).to_have_title("Photo Printer")
    assert rp.last["state"] == again.state and "code" in rp.last


def test_deny_returns_access_denied_to_the_client(page, server, third_party, rp, demo):
    # A scope set this user never granted, so the page shows even after the Allow test.
    req = reach_consent(page, server, third_party, rp, demo, scope="openid phone")
    expect(page.locator("#fd-scopes li")).to_have_text(["Sign you in with your account",
                                                        "See your phone number"])
    page.get_by_role("button", name="Deny").click()
    expect(page).to_have_title("Photo Printer")
    params = rp.last
    assert params["error"] == "access_denied"
    assert params["state"] == req.state
    assert params["iss"] == server.url
    assert "code" not in params
