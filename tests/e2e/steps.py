"""What a user does on the hosted pages, as browser steps (selectors from templates/hosted/)."""

from __future__ import annotations

import re
import time

import pyotp
from playwright.sync_api import expect

from tests.e2e.support import PASSWORD, Mailbox
from tests.oauth.helpers import AuthorizationRequest

TOTP_STEP_SECONDS = 30


def fill_login(page, email: str, password: str) -> None:
    """On /login: both fields and the Sign in button."""
    expect(page.locator("#fd-login-form")).to_be_visible()
    page.get_by_label("E-mail address", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.locator("#fd-login-form").get_by_role("button", name="Sign in").click()


def fill_signup(page, email: str, password: str = PASSWORD, name: str = "Ada Lovelace") -> None:
    """On /signup: the configured attributes (name by default), e-mail, password."""
    expect(page.locator("#fd-signup-form")).to_be_visible()
    page.get_by_label("Full name").fill(name)
    page.get_by_label("E-mail address", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Create account").click()


def confirm_email(page, mailbox: Mailbox, email: str, since: int = 0) -> str:
    """On /signup/confirm: the code from the outbox. Returns the code."""
    expect(page).to_have_url(re.compile(r"/signup/confirm\?"))
    code = mailbox.wait_for(email, "confirmation code", since=since).code
    page.get_by_label("Confirmation code").fill(code)
    page.get_by_role("button", name="Confirm").click()
    return code


def sign_up(page, server, mailbox: Mailbox, email: str, password: str = PASSWORD) -> None:
    """A new account through /signup and the e-mailed code; ends signed in on /account."""
    page.goto(server.url + "/signup")
    fill_signup(page, email, password)
    confirm_email(page, mailbox, email)
    expect(page).to_have_url(server.url + "/account")


def totp_code(secret: str, steps_ahead: int = 0) -> str:
    """The code of the current time step, or of a later one (the server accepts one step of
    drift and never a step at or before the last one used)."""
    return pyotp.TOTP(secret).at(time.time() + steps_ahead * TOTP_STEP_SECONDS)


def authorization(server, client_id: str, redirect_uri: str, **extra) -> AuthorizationRequest:
    return AuthorizationRequest(client_id, redirect_uri, extra=extra)


def open_authorization(page, server, req: AuthorizationRequest) -> None:
    page.goto(req.url(server.url))
