"""CORS for browser apps (SPAs) on discovery, JWKS, token, userinfo and revoke.

Allowed origins: those of the redirect URIs of public clients, plus settings.cors_origins.
The public-client origins are read from the database at most once a minute (kept in the
store), and only for requests that carry an Origin header. Hosted pages never answer CORS.
No credentials: these endpoints never use cookies.
"""

from __future__ import annotations

from flask import Response, request
from sqlalchemy import select

from app.extensions import db, frontdesk_state
from app.models import Client

CORS_ENDPOINTS = frozenset({"oauth.discovery", "oauth.jwks", "oauth.token", "oauth.userinfo",
                            "oauth.revoke"})
CACHE_KEY = "cors:public_client_origins"
CACHE_SECONDS = 60
PREFLIGHT_MAX_AGE_SECONDS = 600


def public_client_origins() -> set[str]:
    store = frontdesk_state().store
    cached = store.get_json(CACHE_KEY)
    if cached is not None:
        return set(cached)
    origins: set[str] = set()
    for client in db.session.scalars(select(Client).where(Client.is_public.is_(True))):
        origins |= client.origins()
    store.set_json(CACHE_KEY, sorted(origins), CACHE_SECONDS)
    return origins


def forget_public_client_origins() -> None:
    """Drop the cached list (a client was added or changed)."""
    frontdesk_state().store.delete(CACHE_KEY)


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
