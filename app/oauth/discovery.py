"""OpenID Provider metadata (OIDC Discovery §3, RFC 8414 §2, RFC 9207 §3) and the JWKS.

The discovery document is built once per process (it depends only on settings) and served
as prebuilt bytes; the JWKS bytes and ETag come from the key ring, which reloads at most
every 30 s. Neither touches the database per request once warm.

It advertises exactly what works: tests/oauth/test_discovery.py exercises every value.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import Response, request

from app.extensions import frontdesk_state
from app.keys import JWKS_MAX_AGE_SECONDS
from app.oauth.claims import CLAIMS_SUPPORTED
from app.oauth.client_auth import ASSERTION_ALGS
from app.oauth.introspection import AUTH_METHODS as INTROSPECTION_AUTH_METHODS
from app.oauth.responses import RESPONSE_MODES
from app.oauth.revocation import AUTH_METHODS as REVOCATION_AUTH_METHODS
from app.oauth.signing import SIGNING_ALGS

DISCOVERY_MAX_AGE_SECONDS = 3600
SCOPES_SUPPORTED = ("openid", "profile", "email", "phone", "address", "offline_access")
TOKEN_AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt", "none")


def provider_metadata() -> dict[str, Any]:
    settings = frontdesk_state().settings
    issuer = settings.issuer
    return {
        "issuer": issuer,
        "authorization_endpoint": issuer + "/oauth2/authorize",
        "token_endpoint": issuer + "/oauth2/token",
        "userinfo_endpoint": issuer + "/oauth2/userinfo",
        "jwks_uri": issuer + "/.well-known/jwks.json",
        "revocation_endpoint": issuer + "/oauth2/revoke",
        "introspection_endpoint": issuer + "/oauth2/introspect",
        "end_session_endpoint": issuer + "/oauth2/logout",
        "scopes_supported": list(SCOPES_SUPPORTED),
        "response_types_supported": ["code"],
        "response_modes_supported": list(RESPONSE_MODES),
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": list(SIGNING_ALGS),
        "token_endpoint_auth_methods_supported": list(TOKEN_AUTH_METHODS),
        "token_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGS),
        "revocation_endpoint_auth_methods_supported": list(REVOCATION_AUTH_METHODS),
        "revocation_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGS),
        "introspection_endpoint_auth_methods_supported": list(INTROSPECTION_AUTH_METHODS),
        "introspection_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGS),
        "code_challenge_methods_supported": ["S256"],
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "claims_supported": sorted({*CLAIMS_SUPPORTED, settings.groups_claim}),
        "claim_types_supported": ["normal"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "require_request_uri_registration": False,
        "authorization_response_iss_parameter_supported": True,
        "frontchannel_logout_supported": False,
        "backchannel_logout_supported": False,
    }


def _discovery_bytes() -> tuple[bytes, str]:
    extras = frontdesk_state().extras
    if "discovery" not in extras:
        body = json.dumps(provider_metadata(), separators=(",", ":")).encode()
        extras["discovery"] = (body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')
    return extras["discovery"]


def cached_json(body: bytes, etag: str, max_age: int) -> Response:
    """Prebuilt JSON with an ETag (304 when it matches) and a public max-age."""
    if request.if_none_match.contains_weak(etag.strip('"')):
        response = Response(status=304)
    else:
        response = Response(body, mimetype="application/json")
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    return response


def discovery_response() -> Response:
    body, etag = _discovery_bytes()
    return cached_json(body, etag, DISCOVERY_MAX_AGE_SECONDS)


def jwks_response() -> Response:
    keyring = frontdesk_state().keyring
    return cached_json(keyring.jwks_bytes, keyring.jwks_etag, JWKS_MAX_AGE_SECONDS)
