"""Security headers on every hosted page and on error pages; no inline script or style."""

from __future__ import annotations

import re

import pytest

from tests.hosted.helpers import SECURITY_HEADERS, login, text

PAGES = ["/login", "/signup", "/signup/confirm?flow=x", "/password/forgot",
         "/password/reset?flow=x", "/logout", "/login?interaction=gone", "/consent",
         "/does-not-exist", "/_theme/preview", "/_theme/preview/page/mfa_setup"]


def assert_page_headers(response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, name
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", PAGES)
def test_headers_on_every_page(client, path):
    response = client.get(path)
    assert response.status_code < 500
    assert_page_headers(response)
    body = text(response)
    assert "<script" not in body and " style=" not in body and "<style" not in body


def test_headers_on_signed_in_pages(client, user):
    login(client, user["email"], user["password"])
    for path in ("/account", "/mfa/setup", "/logout"):
        assert_page_headers(client.get(path))


def test_every_form_has_a_csrf_token(client, user):
    login(client, user["email"], user["password"])
    for path in ("/account", "/mfa/setup", "/logout"):
        body = text(client.get(path))
        forms = re.findall(r"<form\b.*?</form>", body, re.S)
        assert forms
        for form in forms:
            if 'method="post"' in form:
                assert 'name="csrf_token"' in form, form[:120]


def test_theme_assets_are_not_pages(client):
    with client.get("/_theme/assets/example/theme.css") as response:
        assert response.status_code == 200
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] != "no-store"
        assert b"--fd-color-primary" in response.data
    assert client.get("/_theme/assets/example/../../app/config.py").status_code == 404
    assert client.get("/_theme/assets/nope/theme.css").status_code == 404
