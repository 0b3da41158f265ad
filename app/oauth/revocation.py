"""Token revocation (RFC 7009) on Authlib's RevocationEndpoint.

A refresh token revokes its whole family and the access tokens issued so far to its user
for its client; an access token (a JWT) has its `jti` deny-listed until it expires. An
unknown, expired or already revoked token is answered with 200 (§2.2). A token issued to
another client is refused with invalid_grant (§2.1: "the request is refused"). Public
clients authenticate with their client_id (§5).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oauth2.rfc7009 import RevocationEndpoint as _RevocationEndpoint

from app.extensions import db
from app.models import RefreshToken
from app.oauth.tokens import (
    access_token_revoked,
    deny_access_token,
    read_access_token,
    revoke_access_tokens_until_now,
    revoke_refresh_family,
    token_hash,
)

AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]


@dataclass
class FoundToken:
    """An access token's claims or a refresh token's row, as the endpoints see them."""

    client_id: str
    access: dict[str, Any] | None = None
    refresh: RefreshToken | None = None

    def check_client(self, client) -> bool:
        return self.client_id == client.client_id

    def is_expired(self) -> bool:
        if self.access is not None:
            return self.access["exp"] <= time.time()
        return self.refresh.is_expired()

    def is_revoked(self) -> bool:
        """Revoked, deny-listed, or (refresh) already rotated: no longer usable."""
        if self.access is not None:
            return access_token_revoked(self.access)
        return self.refresh.revoked or self.refresh.rotated_at is not None


def find_token(token: str, hint: str | None) -> FoundToken | None:
    """Look the token up as the hint suggests first, then as the other type (RFC 7009 §2.1).
    Our access tokens are JWTs and refresh tokens are not, so the shape decides."""
    if not token or len(token) > 8192:
        return None
    if token.count(".") == 2:
        claims = read_access_token(token)
        return FoundToken(client_id=claims["client_id"], access=claims) \
            if claims and claims.get("client_id") else None
    row = db.session.get(RefreshToken, token_hash(token))
    return FoundToken(client_id=row.client_id, refresh=row) if row else None


class RevocationEndpoint(_RevocationEndpoint):
    CLIENT_AUTH_METHODS = AUTH_METHODS

    def check_params(self, request, client) -> None:
        """A missing token is invalid_request; an unknown hint is only a hint (§2.1)."""
        if not request.form.get("token"):
            raise InvalidRequestError("Missing 'token'.")

    def query_token(self, token_string: str, token_type_hint: str | None):
        return find_token(token_string, token_type_hint)

    def revoke_token(self, token: FoundToken, request) -> None:
        if token.access is not None:
            deny_access_token(token.access["jti"], token.access["exp"])
            return
        revoke_refresh_family(token.refresh.family_id)
        db.session.commit()  # before the store write: embedded, both are one SQLite file
        # §2.1: "SHOULD also invalidate all access tokens based on the same authorization
        # grant"; they are not listed anywhere, so every one of this user for this client.
        revoke_access_tokens_until_now(token.refresh.user_id, token.refresh.client_id)
