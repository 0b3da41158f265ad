"""Signing in through the real hosted /login form, as a browser does (requests.Session)."""

from __future__ import annotations

import html
import re
from urllib.parse import urljoin

import requests


def hidden_field(page: str, name: str) -> str:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)
    assert tag, f"no {name} field on the page"
    value = re.search(r'value="([^"]*)"', tag.group(0))
    return html.unescape(value.group(1)) if value else ""


def follow_until(browser: requests.Session, response: requests.Response,
                 prefix: str) -> requests.Response | str:
    """Follow redirects; stop at a URL starting with `prefix` (returned) or at a page."""
    while response.is_redirect:
        location = urljoin(response.url, response.headers["Location"])
        if location.startswith(prefix):
            return location
        response = browser.get(location, allow_redirects=False)
    return response


def sign_in_and_authorize(browser: requests.Session, authorization_url: str, email: str,
                          password: str, redirect_uri: str) -> str:
    """GET the authorization URL, fill the hosted login form; returns the callback URL."""
    page = follow_until(browser, browser.get(authorization_url, allow_redirects=False),
                        redirect_uri)
    assert not isinstance(page, str) and "/login" in page.url, page
    form = {"email": email, "password": password,
            "csrf_token": hidden_field(page.text, "csrf_token"),
            "interaction": hidden_field(page.text, "interaction")}
    done = follow_until(browser, browser.post(page.url, data=form, allow_redirects=False),
                        redirect_uri)
    assert isinstance(done, str), (done.status_code, done.text[:500])
    return done
