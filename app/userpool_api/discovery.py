"""The pool's issuer documents, where SDK-side verifiers (aws-jwt-verify, pycognito) look:
`<iss>/.well-known/jwks.json` (the keys that sign every token here) and
`<iss>/.well-known/openid-configuration`."""

from __future__ import annotations

import hashlib
import json

from flask import Response, abort

from app.extensions import frontdesk_state
from app.userpool_api.pool import pool_issuer, user_pool_id
from app.userpool_api.protocol import bp

MAX_AGE_SECONDS = 300


def _cached(body: bytes) -> Response:
    response = Response(body, mimetype="application/json")
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE_SECONDS}"
    response.headers["ETag"] = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    return response


def _require_pool(pool_id: str) -> None:
    if pool_id != user_pool_id(frontdesk_state().settings):
        abort(404)


@bp.get("/<pool_id>/.well-known/jwks.json")
def jwks(pool_id: str) -> Response:
    _require_pool(pool_id)
    return _cached(frontdesk_state().keyring.jwks_bytes)


@bp.get("/<pool_id>/.well-known/openid-configuration")
def openid_configuration(pool_id: str) -> Response:
    _require_pool(pool_id)
    issuer = pool_issuer(frontdesk_state().settings)
    return _cached(json.dumps({
        "issuer": issuer, "jwks_uri": issuer + "/.well-known/jwks.json",
        "response_types_supported": ["code"], "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic",
                                                  "client_secret_post"],
        "scopes_supported": ["openid", "email", "phone", "profile"],
    }, separators=(",", ":")).encode())
