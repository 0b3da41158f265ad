"""CORS for browser apps (SPAs) on discovery, JWKS, token, userinfo and revoke.

Allowed origins: those of the redirect URIs of public clients, plus settings.cors_origins.
The public-client origins come from the client cache (app.oauth.client_cache), read only
for requests that carry an Origin header; every client change invalidates them there with
the clients themselves. Hosted pages never answer CORS.
No credentials: these endpoints never use cookies.
"""

from __future__ import annotations

from flask import Response, request

from app.extensions import frontdesk_state
from app.oauth.client_cache import public_client_origins

CORS_ENDPOINTS = frozenset({"oauth.discovery", "oauth.jwks", "oauth.token", "oauth.userinfo",
                            "oauth.revoke"})
PREFLIGHT_MAX_AGE_SECONDS = 600


def origin_allowed(origin: str) -> bool:
    if origin in frontdesk_state().settings.csv("cors_origins"):
        return True
    return origin in public_client_origins()


def add_cors_headers(response: Response) -> Response:
    """after_request of the oauth blueprint: CORS headers, preflight included."""
    if request.endpoint not in CORS_ENDPOINTS:
        return response
    response.vary.add("Origin")
    origin = request.headers.get("Origin")
    if not origin or not origin_allowed(origin):
        return response
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Access-Control-Expose-Headers"] = "WWW-Authenticate, ETag"
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
        response.headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE_SECONDS)
    return response
