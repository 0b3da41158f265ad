"""Every page as the browser shows it: axe-core finds no serious or critical violation, the
layout has no horizontal scroll at 360 px, and screenshots at 1280 and 390 px land in
tests/e2e/artifacts/ for people to look at.

One walk through the pages (the `gallery` fixture) audits each page where a user meets it,
error states included; the tests below then report page by page.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.steps import authorization, confirm_email, fill_login, fill_signup, totp_code
from tests.e2e.support import (
    ARTIFACTS,
    DEFAULT_TIMEOUT_MS,
    PASSWORD,
    PHONE_WIDTH,
    BackgroundCommand,
    PageAudit,
    RelyingParty,
    audit_page,
    run_axe,
    unique_email,
)

pytestmark = pytest.mark.e2e
DEMO_USER = False  # the walk signs up its own user

PAGES = [
    "demo", "login", "login-error", "signup", "signup-errors", "signup-confirm",
    "signup-confirm-error", "demo-signed-in", "account", "mfa-setup", "recovery-codes",
    "account-mfa-on", "logout", "signed-out", "mfa", "mfa-error", "consent",
    "oauth-logout-confirm", "oauth-signed-out", "forgot", "reset", "reset-error", "error",
    "not-found", "expired",
]


class Gallery:
    """Audits by page name; the walk stops at the first step that fails, and says so."""

    def __init__(self, page) -> None:
        self.page = page
        self.audits: dict[str, PageAudit] = {}
        self.failure: str | None = None

    def audit(self, name: str, title: str | None = None) -> None:
        assert name in PAGES, name
        if title is not None:
            expect(self.page).to_have_title(title)
        self.audits[name] = audit_page(self.page, name)

    def get(self, name: str) -> PageAudit:
        if name not in self.audits:
            pytest.fail(f"page {name!r} was not reached: {self.failure or 'not in the walk'}")
        return self.audits[name]


def walk_sign_up(g: Gallery, server, mailbox, email: str) -> None:
    page = g.page
    page.goto(server.url + "/demo")
    g.audit("demo", "Frontdesk demo app · Frontdesk")
    page.get_by_role("link", name="Sign in with Frontdesk").click()
    g.audit("login", "Sign in · Frontdesk")
    fill_login(page, "nobody@example.com", "wrong-password")
    expect(page.get_by_role("alert")).to_be_visible()
    g.audit("login-error")
    page.get_by_role("link", name="Create an account").click()
    g.audit("signup", "Create your account · Frontdesk")
    fill_signup(page, "not-an-address", password="short", name="")
    expect(page.locator(".fd-field-error")).to_have_count(3)
    g.audit("signup-errors")
    fill_signup(page, email)
    expect(page).to_have_url(re.compile(r"/signup/confirm\?"))
    g.audit("signup-confirm", "Confirm your e-mail address · Frontdesk")
    page.get_by_label("Confirmation code").fill("000000")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("alert")).to_be_visible()
    g.audit("signup-confirm-error")
    confirm_email(page, mailbox, email)
    expect(page.locator("#id-token-claims")).to_be_visible()
    g.audit("demo-signed-in")


def walk_mfa(g: Gallery, server, email: str, password: str) -> None:
    page = g.page
    page.goto(server.url + "/account")
    g.audit("account", "Your account · Frontdesk")
    page.get_by_role("link", name="Turn on two-step verification").click()
    g.audit("mfa-setup", "Set up two-step verification · Frontdesk")
    secret = page.locator("#totp-secret").get_attribute("data-secret")
    page.get_by_label("Code from your app").fill(totp_code(secret))
    page.get_by_role("button", name="Turn on").click()
    g.audit("recovery-codes", "Your recovery codes · Frontdesk")
    page.get_by_role("link", name="I saved my codes, continue").click()
    g.audit("account-mfa-on", "Your account · Frontdesk")
    page.goto(server.url + "/logout")
    g.audit("logout", "Sign out · Frontdesk")
    page.locator("#fd-logout-form").get_by_role("button", name="Sign out").click()
    g.audit("signed-out", "Signed out · Frontdesk")
    page.goto(server.url + "/demo/login")
    fill_login(page, email, password)
    g.audit("mfa", "Two-step verification · Frontdesk")
    page.get_by_label("Verification code").fill("000000")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert")).to_be_visible()
    g.audit("mfa-error")
    page.get_by_label("Verification code").fill(totp_code(secret, steps_ahead=1))
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("#id-token-claims")).to_be_visible()


def walk_consent_and_protocol_pages(g: Gallery, server, rp, client_id: str) -> None:
    page = g.page
    page.goto(authorization(server, client_id, rp.redirect_uri).url(server.url))
    g.audit("consent", "Allow access · Frontdesk")
    page.get_by_role("button", name="Deny").click()
    expect(page).to_have_title(rp.title)
    page.goto(server.url + "/oauth2/logout")  # no id_token_hint: the user is asked
    g.audit("oauth-logout-confirm")
    page.get_by_role("button", name="Sign out").click()
    g.audit("oauth-signed-out")


def walk_recovery_and_errors(g: Gallery, server) -> None:
    page = g.page
    page.goto(server.url + "/password/forgot")
    g.audit("forgot", "Forgot your password? · Frontdesk")
    page.get_by_label("E-mail address").fill(unique_email("nobody"))
    page.get_by_role("button", name="Send code").click()
    g.audit("reset", "Choose a new password · Frontdesk")
    page.get_by_label("Reset code").fill("123456")
    page.get_by_label("New password", exact=True).fill("password")
    page.get_by_role("button", name="Save new password").click()
    expect(page.locator(".fd-field-error, [role=alert]").first).to_be_visible()
    g.audit("reset-error")
    page.goto(server.url + "/oauth2/authorize?client_id=unknown&response_type=code")
    g.audit("error")
    page.goto(server.url + "/no-such-page")
    g.audit("not-found", "Page not found · Frontdesk")
    page.goto(server.url + "/login?interaction=gone")
    g.audit("expired")


@pytest.fixture(scope="module")
def third_party(server):
    """The relying party and its client registration, which runs during the walk."""
    rp = RelyingParty("Photo Printer")
    created = BackgroundCommand(server, "clients", "create", "--name", "Photo Printer",
                                "--redirect-uri", rp.redirect_uri)
    yield rp, created
    created.finish()
    rp.stop()


@pytest.fixture(scope="module")
def gallery(browser, server, mailbox, third_party) -> Gallery:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    g = Gallery(context.new_page())
    email = unique_email("gallery")
    rp, client = third_party
    try:
        walk_sign_up(g, server, mailbox, email)
        walk_mfa(g, server, email, PASSWORD)
        walk_consent_and_protocol_pages(g, server, rp, client["client_id"])
        walk_recovery_and_errors(g, server)
    except Exception as exc:  # noqa: BLE001 - reported by every page test after it
        g.failure = f"{type(exc).__name__}: {exc}"
    finally:
        context.close()
        write_report(g)
    return g


def write_report(g: Gallery) -> None:
    """artifacts/pages.json: every violation (any impact) and width, for people and CI."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    report = {"failure": g.failure, "pages": {
        name: {"url": a.url, "scroll_width_at_360": a.scroll_width_at_phone,
               "violations": a.violations} for name, a in g.audits.items()}}
    (ARTIFACTS / "pages.json").write_text(json.dumps(report, indent=2))


def test_the_walk_reaches_every_page(gallery):
    assert gallery.failure is None, gallery.failure
    assert sorted(gallery.audits) == sorted(PAGES)


@pytest.mark.parametrize("name", PAGES)
def test_no_serious_or_critical_accessibility_violation(gallery, name):
    audit = gallery.get(name)
    assert not audit.blocking, f"{name} ({audit.url}):\n{audit.describe_blocking()}"


@pytest.mark.parametrize("name", PAGES)
def test_no_horizontal_scroll_at_360px_and_screenshots_saved(gallery, name):
    audit = gallery.get(name)
    assert audit.scroll_width_at_phone <= PHONE_WIDTH, (
        f"{name} is {audit.scroll_width_at_phone} px wide at {PHONE_WIDTH} px ({audit.url})")
    assert [p.name for p in audit.screenshots] == [f"{name}-1280.png", f"{name}-390.png"]
    assert all(p.stat().st_size > 0 for p in audit.screenshots)


def test_the_axe_check_does_find_violations(page, server):
    """The control: the same harness on a page made broken on purpose."""
    page.goto(server.url + "/no-such-page")
    page.set_content('<html lang="en"><title>x</title><main><img src="/static/none.png">'
                     '<input type="text"></main></html>')
    found = {v["id"]: v["impact"] for v in run_axe(page)}
    assert found.get("image-alt") == "critical", found
    assert found.get("label") == "critical", found
