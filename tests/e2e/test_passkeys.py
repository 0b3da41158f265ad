"""Passkeys in headless Chromium with the DevTools virtual authenticator (CTAP2, internal,
resident keys, user verification): register on the account page, sign out, sign in to the
demo app with the passkey alone (the ID token's amr has no `pwd`), remove it and see the
sign-in refused. Browsers allow WebAuthn on `localhost`, never on 127.0.0.1, so this module's
server has the issuer http://localhost:<port>."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.steps import fill_login
from tests.e2e.support import SERVER_SETTINGS, BackgroundCommand, audit_page
from tests.live import (
    TEST_DATABASE_URL,
    TEST_REDIS_URL,
    _flush_prefix,
    drop_database,
    free_port,
    start_server,
)

pytestmark = pytest.mark.e2e

REFUSED = "That passkey was not accepted. Try again, or sign in with your password."


@pytest.fixture(scope="module")
def localhost_server(tmp_path_factory):
    """`frontdesk run` whose issuer is http://localhost:<port>, with the demo client and user."""
    port = free_port()
    live = start_server(tmp_path_factory.mktemp("e2e-passkeys"), port=port,
                        issuer=f"http://localhost:{port}", **SERVER_SETTINGS)
    live.url = f"http://localhost:{port}"
    try:
        live.extra["demo"] = BackgroundCommand(live, "demo").result()
        yield live
    finally:
        live.stop()
        if TEST_DATABASE_URL:
            drop_database(live.env["FRONTDESK_DATABASE_URL"])
        if TEST_REDIS_URL:
            _flush_prefix(live.env["FRONTDESK_REDIS_PREFIX"])


def add_virtual_authenticator(page) -> tuple[object, str]:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True,
        "automaticPresenceSimulation": True}})
    return cdp, added["authenticatorId"]


def start_demo_sign_in(page, server) -> None:
    page.goto(server.url + "/demo")
    page.get_by_role("link", name="Sign in with Frontdesk").click()
    expect(page).to_have_url(re.compile(r"/login\?interaction="))


def id_token_claims(page, server) -> dict:
    expect(page).to_have_url(server.url + "/demo/")
    expect(page.locator("#id-token-claims")).to_be_visible()
    return json.loads(page.locator("#id-token-claims").inner_text())


def sign_out(page, server) -> None:
    page.goto(server.url + "/logout")
    page.locator("#fd-logout-form").get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are signed out")


def test_register_sign_in_with_the_passkey_alone_then_remove_it(localhost_server, page):
    server, demo = localhost_server, localhost_server.extra["demo"]
    cdp, authenticator = add_virtual_authenticator(page)

    start_demo_sign_in(page, server)
    fill_login(page, demo["email"], demo["password"])
    assert "pwd" in id_token_claims(page, server)["amr"]

    page.goto(server.url + "/account")
    page.get_by_role("link", name="Manage passkeys").click()
    expect(page).to_have_url(server.url + "/account/passkeys")
    page.get_by_label("Name of this passkey").fill("Virtual key")
    page.locator("#fd-passkey-add-form").get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_role("status")).to_have_text("Your passkey is added.")
    expect(page.locator(".fd-passkey-name")).to_have_text(["Virtual key"])
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    assert [c["isResidentCredential"] for c in credentials["credentials"]] == [True]
    audit = audit_page(page, "passkeys")
    assert not audit.blocking, audit.describe_blocking()

    sign_out(page, server)
    start_demo_sign_in(page, server)
    page.get_by_role("button", name="Sign in with a passkey").click()  # no e-mail typed
    amr = id_token_claims(page, server)["amr"]
    assert "pwd" not in amr and "user" in amr and ("hwk" in amr or "swk" in amr), amr

    page.goto(server.url + "/account/passkeys")
    expect(page.locator(".fd-passkey-item")).to_contain_text("Last used")
    page.get_by_role("button", name="Remove Virtual key").click()
    expect(page.get_by_role("status")).to_have_text("The passkey is removed.")
    expect(page.locator("#fd-no-passkeys")).to_be_visible()

    sign_out(page, server)
    start_demo_sign_in(page, server)
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page.get_by_role("alert")).to_have_text(REFUSED)
    expect(page).to_have_url(server.url + "/passkeys/sign-in")
    page.goto(server.url + "/account")
    expect(page).to_have_url(re.compile(r"/login"))  # still signed out


def test_without_javascript_the_passkey_button_stays_hidden(localhost_server, new_page):
    server, demo = localhost_server, localhost_server.extra["demo"]
    page = new_page(java_script_enabled=False)
    page.goto(server.url + "/login")
    expect(page.get_by_role("button", name="Sign in with a passkey")).to_be_hidden()
    fill_login(page, demo["email"], demo["password"])
    expect(page).to_have_url(server.url + "/account")
