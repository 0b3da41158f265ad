"""Security as the browser sees it: cookie flags, headers, CSP and framing actually enforced,
and no code leaking through a Referer."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from tests.e2e.steps import fill_login
from tests.e2e.support import Mailbox, RelyingParty

pytestmark = pytest.mark.e2e

SESSION_COOKIE = "frontdesk_session"


def session_cookie(page) -> dict:
    found = [c for c in page.context.cookies() if c["name"] == SESSION_COOKIE]
    assert len(found) == 1, page.context.cookies()
    return found[0]


def test_session_cookie_is_httponly_lax_and_not_secure_on_http(page, server, demo):
    page.goto(server.url + "/login")
    before = session_cookie(page)
    fill_login(page, demo["email"], demo["password"])
    expect(page).to_have_url(server.url + "/account")
    cookie = session_cookie(page)
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert cookie["secure"] is False  # http://127.0.0.1: a Secure cookie would be dropped
    assert cookie["value"] != before["value"], "the session id was not rotated at login"
    assert page.evaluate("document.cookie") == "", "scripts can read the session cookie"


def assert_page_headers(response) -> None:
    headers = response.headers
    csp = headers.get("content-security-policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
    where = response.url
    assert directives.get("frame-ancestors") == ["'none'"], (where, csp)
    script_src = directives.get("script-src", directives.get("default-src", []))
    assert script_src and "'unsafe-inline'" not in script_src, (where, csp)
    assert "'unsafe-eval'" not in script_src, (where, csp)
    assert headers.get("x-frame-options") == "DENY", where
    assert headers.get("referrer-policy") == "no-referrer", where
    assert headers.get("x-content-type-options") == "nosniff", where
    assert "no-store" in headers.get("cache-control", ""), where


ANONYMOUS_PAGES = ["/login", "/signup", "/signup/confirm?flow=x", "/password/forgot",
                   "/password/reset?flow=x&code=123456", "/logout",
                   "/login?interaction=unknown", "/no-such-page",
                   "/oauth2/authorize?client_id=unknown&response_type=code"]
SIGNED_IN_PAGES = ["/account", "/logout", "/mfa/setup"]


def test_every_page_sends_csp_frame_and_referrer_headers(page, server, demo):
    for path in ANONYMOUS_PAGES:
        assert_page_headers(page.goto(server.url + path))
    page.goto(server.url + "/login")
    fill_login(page, demo["email"], demo["password"])
    expect(page).to_have_url(server.url + "/account")
    for path in SIGNED_IN_PAGES:
        assert_page_headers(page.goto(server.url + path))


def test_demo_app_pages_send_the_same_headers(page, server, demo):
    """The demo shows decoded tokens: it must not be cached, framed or leak a Referer."""
    assert_page_headers(page.goto(server.url + "/demo/"))
    page.get_by_role("link", name="Sign in with Frontdesk").click()
    fill_login(page, demo["email"], demo["password"])
    expect(page.locator("#id-token-claims")).to_be_visible()
    assert_page_headers(page.goto(server.url + "/demo/"))


def test_a_page_cannot_be_framed_by_another_site(page, server):
    attacker = RelyingParty("Attacker")
    try:
        messages = []
        page.on("console", lambda message: messages.append(message.text))
        page.goto(attacker.origin + "/")
        page.set_content(f'<iframe id="own" src="{attacker.origin}/own" title="own"></iframe>'
                         f'<iframe id="fd" src="{server.url}/login" title="frontdesk"></iframe>')
        # The control: the attacker's own page frames fine.
        expect(page.frame_locator("#own").locator("p")).to_have_text("back at the app")
        expect(page.frame_locator("#fd").locator("#fd-login-form")).to_have_count(0)
        for _ in range(50):  # the console report may trail the frame's load
            if any("frame-ancestors" in m for m in messages):
                break
            page.wait_for_timeout(100)
        assert any("frame-ancestors" in m for m in messages), messages
    finally:
        attacker.stop()


def test_csp_blocks_injected_inline_script(page, server):
    page.goto(server.url + "/login")
    with pytest.raises(PlaywrightError, match="Content Security Policy"):
        page.add_script_tag(content="window.injected = true")
    assert page.evaluate("window.injected") is None


def test_code_in_the_url_does_not_leak_through_referer(page, server, demo, mailbox: Mailbox):
    requests_seen = []
    page.on("request", lambda request: requests_seen.append(request))
    since = mailbox.count(demo["email"])
    page.goto(server.url + "/password/forgot")
    page.get_by_label("E-mail address").fill(demo["email"])
    page.get_by_role("button", name="Send code").click()
    expect(page).to_have_url(re.compile(r"/password/reset\?flow="))
    mail = mailbox.wait_for(demo["email"], "password reset code", since=since)
    assert f"code={mail.code}" in mail.link

    page.goto(mail.link)  # the page's own URL now carries the code
    expect(page.get_by_label("Reset code")).to_have_value(mail.code)
    page.get_by_role("link", name="Back to sign in").click()
    expect(page).to_have_url(server.url + "/login")
    assert page.evaluate("document.referrer") == ""

    after_link = requests_seen[[r.url for r in requests_seen].index(mail.link):]
    assert len(after_link) >= 3  # the page, its stylesheet, the next page (and its stylesheet)
    for request in after_link:
        referer = request.all_headers().get("referer")
        assert referer is None, f"{request.url} was sent Referer {referer}"
