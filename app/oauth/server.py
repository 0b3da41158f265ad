"""Binding Authlib's AuthorizationServer (app.extensions.authorization) to Frontdesk:
client lookup, token persistence, the token generator, grants, client authentication
methods and endpoints.

The server object is process-wide (an extension), while everything it calls reads the
current app (settings, store, key ring) at request time; grants and endpoints are therefore
registered once per process, whatever the number of apps created (tests create many).
"""

from __future__ import annotations

from authlib.oauth2.rfc6750 import BearerTokenValidator
from flask import Flask

from app.extensions import authorization, require_oauth
from app.oauth.client_auth import PrivateKeyJWT
from app.oauth.client_cache import ClientSnapshot, cached_client, install_client_hooks
from app.oauth.grants import (
    AuthorizationCodeGrant,
    ClientCredentialsGrant,
    RefreshTokenGrant,
    S256CodeChallenge,
)
from app.oauth.id_tokens import OpenIDCodeExtension
from app.oauth.introspection import IntrospectionEndpoint
from app.oauth.logout import EndSessionEndpoint
from app.oauth.refresh import add_refresh_token
from app.oauth.revocation import RevocationEndpoint
from app.oauth.tokens import generate_token, verify_access_token

_REGISTERED = "_frontdesk_registered"


def query_client(client_id: str | None) -> ClientSnapshot | None:
    """The client as Authlib sees it: an immutable snapshot, cached per process and
    invalidated through the store on every change (app.oauth.client_cache)."""
    return cached_client(client_id)


def save_token(token: dict, request) -> None:
    """Persist the refresh token of an authorization_code response (its hash only). The
    refresh_token grant rotates in app.oauth.refresh; access tokens are self-contained."""
    if "refresh_token" in token and request.authorization_code is not None:
        add_refresh_token(token["refresh_token"], request.client, request.user,
                          token.get("scope", ""))  # committed on its own


class AccessToken(dict):
    """Verified access token claims for Authlib's ResourceProtector (require_oauth)."""

    def is_expired(self) -> bool:
        return False  # verify_access_token already refused expired tokens

    def is_revoked(self) -> bool:
        return False  # and deny-listed ones

    def get_scope(self) -> str:
        return self.get("scope", "")


class AccessTokenValidator(BearerTokenValidator):
    """Lets other parts protect views with `@require_oauth("scope")`."""

    def authenticate_token(self, token_string: str) -> AccessToken | None:
        claims = verify_access_token(token_string)
        return AccessToken(claims) if claims is not None else None


def init_server(app: Flask) -> None:
    authorization.init_app(app, query_client=query_client, save_token=save_token)
    authorization.register_token_generator("default", generate_token)
    install_client_hooks()
    if getattr(authorization, _REGISTERED, False):
        return
    authorization.register_grant(AuthorizationCodeGrant,
                                 [S256CodeChallenge(required=True), OpenIDCodeExtension()])
    authorization.register_grant(RefreshTokenGrant)
    authorization.register_grant(ClientCredentialsGrant)
    authorization.register_client_auth_method(PrivateKeyJWT.CLIENT_AUTH_METHOD, PrivateKeyJWT())
    authorization.register_endpoint(RevocationEndpoint)
    authorization.register_endpoint(IntrospectionEndpoint)
    authorization.register_endpoint(EndSessionEndpoint)
    require_oauth.register_token_validator(AccessTokenValidator())
    setattr(authorization, _REGISTERED, True)


__all__ = ["init_server", "query_client", "save_token"]
