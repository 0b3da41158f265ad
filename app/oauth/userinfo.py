"""The UserInfo endpoint (OIDC Core §5.3) with bearer tokens per RFC 6750.

Per request: one signature check and one deny-list lookup (verify_access_token), one
autocommit query for the user and its groups (app.oauth.claims_subject). The token comes
in the Authorization header, or for POST in the form body (RFC 6750 §2.1, §2.2); never
both.
"""

from __future__ import annotations

import json

from authlib.oauth2 import OAuth2Error
from flask import Response, jsonify, request

from app.extensions import frontdesk_state
from app.oauth.claims import user_claims
from app.oauth.claims_subject import load_claims_user
from app.oauth.tokens import apply_claims_hook, verify_access_token

USERINFO_TYPE = "application/json"


def bearer_challenge(status: int, error: str | None = None,
                     description: str | None = None) -> Response:
    """An RFC 6750 §3 error: WWW-Authenticate: Bearer with the error, no-store."""
    realm = frontdesk_state().settings.issuer
    parts = [f'realm="{realm}"']
    body = {}
    if error:
        parts.append(f'error="{error}"')
        body["error"] = error
        if description:
            parts.append(f'error_description="{description}"')
            body["error_description"] = description
    response = jsonify(body) if body else Response(status=status)
    response.status_code = status
    response.headers["WWW-Authenticate"] = "Bearer " + ", ".join(parts)
    response.headers["Cache-Control"] = "no-store"
    return response


def read_bearer_token() -> tuple[str | None, bool]:
    """(token, malformed): from the Authorization header or a POSTed form field."""
    header = request.headers.get("Authorization", "")
    in_form = request.method == "POST" and request.mimetype == \
        "application/x-www-form-urlencoded" and "access_token" in request.form
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip() or in_form:
            return None, True
        return value.strip(), False
    if in_form:
        return request.form.get("access_token") or None, not request.form.get("access_token")
    return None, False


def userinfo_response() -> Response:
    token, malformed = read_bearer_token()
    if malformed:
        return bearer_challenge(400, "invalid_request", "Send one bearer token.")
    if token is None:
        return bearer_challenge(401)
    return userinfo_for_token(token)


def userinfo_for_token(token: str) -> Response:
    """The answer for one bearer token: its user's claims for the token's scopes."""
    claims = verify_access_token(token)
    if claims is None:
        return bearer_challenge(401, "invalid_token", "The access token is not valid.")
    scopes = str(claims.get("scope", "")).split()
    if "openid" not in scopes:
        return bearer_challenge(403, "insufficient_scope", "The openid scope is required.")
    user = load_claims_user(str(claims.get("sub")))
    if user is None:
        return bearer_challenge(401, "invalid_token", "The access token is not valid.")
    info = user_claims(user, scopes, frontdesk_state().settings.groups_claim)
    try:
        apply_claims_hook(user, claims["client_id"], scopes, None, None, info)
    except OAuth2Error:
        return bearer_challenge(403, "insufficient_scope", "The request was refused.")
    body = json.dumps(info, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(body, mimetype=USERINFO_TYPE, headers={"Cache-Control": "no-store"})
