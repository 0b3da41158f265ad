"""Token introspection (RFC 7662) on Authlib's IntrospectionEndpoint.

Client authentication is required (§2.1; public clients cannot introspect). A client learns
only about tokens issued to it: any other token, like an unknown, expired, revoked or
rotated one, is answered `{"active": false}` (§2.2).
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oauth2.rfc7662 import IntrospectionEndpoint as _IntrospectionEndpoint

from app.extensions import frontdesk_state
from app.oauth.revocation import FoundToken, find_token

AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"]


class IntrospectionEndpoint(_IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = AUTH_METHODS

    def check_params(self, request, client) -> None:
        if not request.form.get("token"):
            raise InvalidRequestError("Missing 'token'.")

    def query_token(self, token_string: str, token_type_hint: str | None):
        return find_token(token_string, token_type_hint)

    def check_permission(self, token: FoundToken, client, request) -> bool:
        return token.check_client(client)

    def introspect_token(self, token: FoundToken) -> dict[str, Any]:
        """RFC 7662 §2.2 members."""
        if token.access is not None:
            claims = token.access
            return {"active": True, "token_type": "Bearer", "scope": claims.get("scope", ""),
                    "client_id": claims["client_id"], "sub": claims.get("sub"),
                    "aud": claims.get("aud"), "iss": claims.get("iss"),
                    "exp": claims["exp"], "iat": claims.get("iat"), "jti": claims["jti"]}
        row = token.refresh
        return {"active": True, "token_type": "refresh_token", "scope": row.scope,
                "client_id": row.client_id, "sub": row.user_id,
                "iss": frontdesk_state().settings.issuer,
                "exp": int(row.expires_at.timestamp()), "iat": int(row.issued_at.timestamp())}
