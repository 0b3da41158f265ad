"""Building protocol responses: authorization responses (query / form_post, always with the
RFC 9207 `iss`) and the error pages of the browser endpoints.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from authlib.common.urls import add_params_to_uri
from authlib.oauth2 import OAuth2Error
from flask import Response, redirect, render_template, request

from app.extensions import frontdesk_state

RESPONSE_MODES = ("query", "form_post")


def authorization_response(redirect_uri: str, response_mode: str,
                           params: list[tuple[str, str]], state: str | None) -> Response:
    """Deliver an authorization response (RFC 6749 §4.1.2, OAuth 2.0 Form Post Response
    Mode) with `state` echoed and `iss` added (RFC 9207 §2)."""
    params = list(params)
    if state:
        params.append(("state", state))
    params.append(("iss", frontdesk_state().settings.issuer))
    if response_mode == "form_post":
        return form_post_page(redirect_uri, params)
    response = redirect(add_params_to_uri(redirect_uri, params),
                        303 if request.method == "POST" else 302)
    response.headers["Cache-Control"] = "no-store"
    return response


def error_redirect(redirect_uri: str, response_mode: str, error: OAuth2Error,
                   state: str | None) -> Response:
    """An authorization error sent back to a validated redirect URI (RFC 6749 §4.1.2.1)."""
    params = [("error", error.error)]
    description = error.get_error_description()
    if description:
        params.append(("error_description", description))
    return authorization_response(redirect_uri, response_mode, params, state)


def form_post_page(redirect_uri: str, params: list[tuple[str, str]]) -> Response:
    """A page that POSTs the response to the client. Its one script runs under a CSP
    nonce; a visible button serves browsers without JavaScript."""
    nonce = secrets.token_urlsafe(16)
    parts = urlsplit(redirect_uri)
    origin = f"{parts.scheme}://{parts.netloc}"
    body = render_template("oauth/form_post.html", action=redirect_uri, params=params,
                           csp_nonce=nonce)
    response = Response(body, 200, mimetype="text/html")
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'self'; "
        f"img-src 'self'; form-action {origin}; base-uri 'none'; frame-ancestors 'none'")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


def protocol_page(body: str, status: int = 200) -> Response:
    """A page of ours (logout confirmation, errors): never cached, never framed."""
    response = Response(body, status, mimetype="text/html")
    response.headers["Content-Security-Policy"] = PAGE_CSP
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def page_error(status: int, error: str, description: str) -> Response:
    """The error page of a browser-facing protocol endpoint (authorize, resume, logout):
    never a redirect, never JSON."""
    return protocol_page(render_template("error.html", status=status, error=error,
                                         description=description), status)


def no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response
