"""Security headers of every hosted page and error page.

No inline script or style anywhere, so the policy needs neither nonces nor 'unsafe-inline'.
There is no form-action directive on purpose: browsers apply it to the redirects after a form
post, and our forms end in redirects to the client's registered redirect URI.
"""

from __future__ import annotations

from flask import Flask, Response, g, request
from flask.signals import template_rendered

PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
            "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
            "frame-ancestors 'none'")
ASSET_CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'"
OUR_PAGES = ("hosted/", "error.html", "preview/", "demo/", "oauth/")


def apply_page_headers(response: Response, csp: str = PAGE_CSP) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", csp)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.endpoint != "hosted.theme_asset":
        # Every page carries a CSRF token, many a code or a secret: never cache.
        headers["Cache-Control"] = "no-store"
        headers.setdefault("Pragma", "no-cache")
    return response


def _note_our_template(sender, template, context, **extra) -> None:
    if template.name and template.name.startswith(OUR_PAGES):
        g.fd_page = True


def _headers_for_our_pages(response: Response) -> Response:
    """Error pages are rendered outside the hosted blueprint: they get the headers too."""
    if g.get("fd_page") and request.blueprint != "hosted":
        apply_page_headers(response)
    return response


def install_headers(app: Flask) -> None:
    template_rendered.connect(_note_our_template, app)
    app.after_request(_headers_for_our_pages)
