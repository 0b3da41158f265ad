"""The whole life of an account in a real browser (issue 4, "Tests"): sign up, confirm by
e-mail, sign in to the demo app, turn on TOTP, keep the recovery codes, sign out, sign in
with MFA, forget the password, reset it, sign in with the new one. Plus the generic login
error, keyboard-only sign-in and the demo's own buttons."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.steps import confirm_email, fill_login, fill_signup, totp_code
from tests.e2e.support import PASSWORD, Mailbox, unique_email

pytestmark = pytest.mark.e2e

NEW_PASSWORD = "Marmalade-Lighthouse-77"
GENERIC_ERROR = ("The e-mail address or password is not right, or the account cannot sign in "
                 "right now. Check them and try again.")


def start_demo_sign_in(page, server) -> None:
    page.goto(server.url + "/demo")
    expect(page).to_have_title("Frontdesk demo app · Frontdesk")
    page.get_by_role("link", name="Sign in with Frontdesk").click()


def demo_claims(page, server) -> tuple[dict, dict, dict]:
    """(ID token claims, access token claims, userinfo) as the demo app shows them."""
    expect(page).to_have_url(server.url + "/demo/")
    expect(page.locator("#id-token-claims")).to_be_visible()
    return tuple(json.loads(page.locator(f"#{box}").inner_text())
                 for box in ("id-token-claims", "access-token-claims", "userinfo"))


def enrol_totp(page, server) -> tuple[str, list[str]]:
    """From /account: the QR page, a code computed from the shown secret, the recovery
    codes. Returns (secret, recovery codes)."""
    page.goto(server.url + "/account")
    page.get_by_role("link", name="Turn on two-step verification").click()
    expect(page).to_have_url(server.url + "/mfa/setup")
    expect(page.locator(".fd-qr svg")).to_be_visible()
    shown = page.locator("#totp-secret")
    secret = shown.get_attribute("data-secret")
    assert secret and shown.inner_text().replace(" ", "") == secret
    page.get_by_label("Code from your app").fill(totp_code(secret))
    page.get_by_role("button", name="Turn on").click()

    expect(page).to_have_title("Your recovery codes · Frontdesk")
    expect(page.get_by_role("status")).to_have_text("Two-step verification is on.")
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10 and len(set(codes)) == 10, codes
    page.get_by_role("link", name="I saved my codes, continue").click()
    expect(page).to_have_url(server.url + "/account")
    expect(page.locator("#fd-mfa")).to_contain_text("10 recovery codes left.")
    return secret, codes


def sign_out_here(page, server) -> None:
    page.goto(server.url + "/logout")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign out?")
    page.locator("#fd-logout-form").get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are signed out")
    page.goto(server.url + "/account")
    expect(page).to_have_url(re.compile(r"/login"))


def reset_password(page, server, mailbox: Mailbox, email: str) -> None:
    """From the login page of an interaction: forgot → code from the outbox → new password."""
    since = mailbox.count(email)
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page).to_have_url(re.compile(r"/password/forgot\?interaction="))
    page.get_by_label("E-mail address").fill(email)
    page.get_by_role("button", name="Send code").click()
    expect(page).to_have_url(re.compile(r"/password/reset\?flow=[\w-]+&interaction="))
    mail = mailbox.wait_for(email, "password reset code", since=since)
    assert mail.link.startswith(server.url + "/password/reset?")  # built from the issuer
    page.get_by_label("Reset code").fill(mail.code)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save new password").click()
    expect(page).to_have_url(re.compile(r"/login\?interaction="))
    expect(page.get_by_role("status")).to_contain_text("Your password is changed")
    mailbox.wait_for(email, "password", since=since + 1)  # the "password changed" notice


def test_sign_up_demo_mfa_and_password_reset(page, server, mailbox):
    email = unique_email("journey")

    # Sign up; the code comes from the outbox.
    page.goto(server.url + "/signup")
    fill_signup(page, email, name="Ada Lovelace")
    confirm_email(page, mailbox, email)
    expect(page).to_have_url(server.url + "/account")
    expect(page.locator("#fd-account-email")).to_contain_text(email)

    # The demo app: already signed in, so the code flow runs straight through.
    start_demo_sign_in(page, server)
    id_claims, access_claims, userinfo = demo_claims(page, server)
    assert id_claims["iss"] == server.url and id_claims["aud"] == "frontdesk-demo"
    assert id_claims["email"] == email and id_claims["email_verified"] is True
    assert id_claims["name"] == "Ada Lovelace"
    assert id_claims["amr"] == ["pwd"]
    assert userinfo["sub"] == id_claims["sub"] == access_claims["sub"]
    assert userinfo["email"] == email
    sub = id_claims["sub"]

    # TOTP with recovery codes, then sign out.
    secret, recovery_codes = enrol_totp(page, server)
    sign_out_here(page, server)

    # Sign in again through the demo: password, then the TOTP code.
    start_demo_sign_in(page, server)
    fill_login(page, email, PASSWORD)
    expect(page).to_have_url(re.compile(r"/mfa\?interaction="))
    expect(page).to_have_title("Two-step verification · Frontdesk")
    page.get_by_label("Verification code").fill(totp_code(secret, steps_ahead=1))
    page.get_by_role("button", name="Verify").click()
    id_claims, _, _ = demo_claims(page, server)
    assert id_claims["sub"] == sub
    assert {"pwd", "otp"} <= set(id_claims["amr"])

    # Forgotten password: the demo's log-out button, then the reset from the login page.
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    page.get_by_role("link", name="Sign in with Frontdesk").click()
    reset_password(page, server, mailbox, email)

    # The old password is gone; the new one works, with a recovery code as second factor.
    fill_login(page, email, PASSWORD)
    expect(page.get_by_role("alert")).to_have_text(GENERIC_ERROR)
    fill_login(page, email, NEW_PASSWORD)
    expect(page).to_have_url(re.compile(r"/mfa\?interaction="))
    page.get_by_label("Verification code").fill(recovery_codes[0])
    page.get_by_role("button", name="Verify").click()
    id_claims, _, _ = demo_claims(page, server)
    assert id_claims["sub"] == sub and "mfa" in id_claims["amr"]
    page.goto(server.url + "/account")
    expect(page.locator("#fd-mfa")).to_contain_text("9 recovery codes left.")


def test_wrong_password_and_unknown_address_get_the_same_generic_error(page, server, demo):
    start_demo_sign_in(page, server)
    fill_login(page, demo["email"], "not-the-password")
    alert = page.get_by_role("alert")
    expect(alert).to_have_text(GENERIC_ERROR)
    expect(page.get_by_label("E-mail address")).to_have_value(demo["email"])
    expect(page.get_by_label("Password", exact=True)).to_be_focused()

    fill_login(page, unique_email("nobody"), "not-the-password")
    expect(page.get_by_role("alert")).to_have_text(GENERIC_ERROR)
    expect(page).to_have_url(re.compile(r"/login\?interaction="))


def focus_style(page) -> dict:
    return page.evaluate("""() => {
        const style = getComputedStyle(document.activeElement);
        return {outline: style.outlineStyle, width: style.outlineWidth,
                shadow: style.boxShadow, tag: document.activeElement.tagName,
                text: document.activeElement.textContent.trim()};
    }""")


def test_keyboard_only_sign_in(page, server, demo):
    page.goto(server.url + "/demo")
    for _ in range(10):  # Tab to the demo's sign-in link
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == \
                "Sign in with Frontdesk":
            break
    else:
        pytest.fail("Tab never reached the demo's sign-in link")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/login\?interaction="))

    email = page.get_by_label("E-mail address")
    expect(email).to_be_focused()  # autofocus: typing can start at once
    page.keyboard.type(demo["email"])
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password", exact=True)).to_be_focused()
    page.keyboard.type(demo["password"])
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Forgot your password?")).to_be_focused()
    page.keyboard.press("Tab")
    button = page.locator("#fd-login-form").get_by_role("button", name="Sign in")
    expect(button).to_be_focused()
    style = focus_style(page)
    assert style["outline"] != "none" or style["shadow"] != "none", style  # visible focus
    page.keyboard.press("Enter")
    id_claims, _, _ = demo_claims(page, server)
    assert id_claims["email"] == demo["email"]


def test_skip_link_comes_first_and_shows_on_focus(page, server):
    page.goto(server.url + "/login")
    expect(page.get_by_label("E-mail address")).to_be_focused()
    page.keyboard.press("Shift+Tab")  # nothing focusable between the skip link and the form
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"


def test_demo_refresh_and_log_out_buttons(page, server, demo):
    start_demo_sign_in(page, server)
    fill_login(page, demo["email"], demo["password"])
    before, _, _ = demo_claims(page, server)
    page.get_by_role("button", name="Refresh tokens").click()
    expect(page.get_by_text("Tokens refreshed.")).to_be_visible()
    after, _, _ = demo_claims(page, server)
    assert after["sub"] == before["sub"]

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(re.escape(server.url) + r"/demo/\?state="))
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    # The Frontdesk session ended too: signing in again asks for the password.
    page.get_by_role("link", name="Sign in with Frontdesk").click()
    expect(page).to_have_url(re.compile(r"/login\?interaction="))


def test_sign_in_works_without_javascript(new_page, server, demo):
    page = new_page(java_script_enabled=False)
    start_demo_sign_in(page, server)
    fill_login(page, demo["email"], demo["password"])
    id_claims, _, _ = demo_claims(page, server)
    assert id_claims["email"] == demo["email"]


def test_form_errors_are_tied_to_their_fields(page, server):
    page.goto(server.url + "/signup")
    fill_signup(page, "not-an-address", password="short", name="")
    expect(page.get_by_role("alert")).to_have_text("Please check the highlighted fields.")
    for label, message in [("Full name", "Please fill in this field."),
                           ("E-mail address", "Enter a valid e-mail address"),
                           ("Password", "Use at least 8 characters.")]:
        field = page.get_by_label(label, exact=True)
        expect(field).to_have_attribute("aria-invalid", "true")
        described = (field.get_attribute("aria-describedby") or "").split()
        texts = [page.locator(f"#{i}").inner_text() for i in described]
        assert any(message in t for t in texts), (label, texts)
    expect(page.get_by_label("Full name")).to_be_focused()  # the first invalid field
