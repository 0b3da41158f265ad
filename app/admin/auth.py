"""Bearer authorization of the admin API (RFC 6750) with Frontdesk access tokens.

Only tokens from the client_credentials grant count (sub == client_id: no end user behind
them, RFC 9068 §2.2), whose client still exists and is still allowed the scope: removing a
scope from a client or deleting it takes effect at once, not when its tokens expire.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from flask import g, request

from app.admin.bodies import reject_nul_characters
from app.admin.problems import FORBIDDEN, UNAUTHORIZED, Problem
from app.extensions import db
from app.models import Client, record_event

REALM = "frontdesk-admin"
SCOPES = {
    "admin:users:read": "Read users, their groups and the declared attributes",
    "admin:users:write": "Create, change, disable, delete users; reset passwords and MFA; "
                         "end their sessions",
    "admin:groups": "Manage groups and their members",
    "admin:clients": "Manage OAuth clients and rotate their secrets",
    "admin:audit:read": "Read the audit log",
}


@dataclass(frozen=True)
class AdminCaller:
    client_id: str
    scopes: frozenset[str]
    ip: str | None


def _challenge(error: str | None = None, description: str | None = None,
               scope: str | None = None) -> dict[str, str]:
    parts = [f'realm="{REALM}"']
    if error:
        parts.append(f'error="{error}"')
    if description:
        parts.append(f'error_description="{description}"')
    if scope:
        parts.append(f'scope="{scope}"')
    return {"WWW-Authenticate": "Bearer " + ", ".join(parts)}


def _unauthorized(detail: str, error: str | None = "invalid_token") -> Problem:
    return Problem(401, "Unauthorized", detail, type_=UNAUTHORIZED,
                   headers=_challenge(error, detail if error else None))


def _bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise _unauthorized("An access token is required.", error=None)
    if scheme.lower() != "bearer" or not token.strip() or " " in token.strip():
        raise _unauthorized("Use the Authorization: Bearer <access token> header.",
                            error="invalid_request")
    return token.strip()


def _token_scopes(claims: dict) -> frozenset[str]:
    scope = claims.get("scope") or ""
    items = scope.split() if isinstance(scope, str) else scope
    return frozenset(s for s in items if isinstance(s, str))


def authenticate() -> AdminCaller:
    """The caller of this request, or Problem 401."""
    from app.oauth.tokens import verify_access_token

    claims = verify_access_token(_bearer_token())
    if not claims:
        raise _unauthorized("The access token is invalid, expired or revoked.")
    client_id = claims.get("client_id")
    if not client_id or claims.get("sub") != client_id:
        raise _unauthorized("Use a token from the client_credentials grant.")
    client = db.session.get(Client, client_id)
    if client is None:
        raise _unauthorized("The client of this token no longer exists.")
    scopes = _token_scopes(claims) & frozenset(client.scopes or [])
    return AdminCaller(client_id, scopes, request.remote_addr)


def require_scope(scope: str) -> Callable:
    """Decorator: authenticate, then demand `scope` (403 insufficient_scope otherwise)."""
    if scope not in SCOPES:
        raise ValueError(f"unknown admin scope {scope}")

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            caller = authenticate()
            if scope not in caller.scopes:
                raise Problem(403, "Forbidden", f"This needs the scope {scope}.",
                              type_=FORBIDDEN, headers=_challenge(
                                  "insufficient_scope", None, scope))
            g.admin_caller = caller
            reject_nul_characters()
            return view(*args, **kwargs)

        wrapper.required_scope = scope
        return wrapper

    return decorate


def caller() -> AdminCaller:
    return g.admin_caller


def audit(type_: str, *, user_id: str | None = None, **details) -> None:
    """Record an admin change: who (the token's client), what, when, from where."""
    who = caller()
    record_event(type_, user_id=user_id, client_id=who.client_id,
                 actor=f"admin-api:{who.client_id}", ip=who.ip, **details)
