"""Client registration rules shared by the CLI and the admin API (RFC 7591 §2 metadata).

Committed changes to clients through the ORM reach the protocol's client cache, the CORS
origins included, by themselves (app.oauth.client_cache); after a change made with raw SQL, call
`client_changed(client_id)` once the transaction is committed."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.extensions import db
from app.models import Client
from app.oauth.client_cache import client_changed

__all__ = ["ClientError", "NewClient", "client_changed", "create_client", "describe_client",
           "validate_redirect_uri"]

GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")
AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt", "none")
DEFAULT_SCOPES = ("openid", "profile", "email", "phone", "address", "offline_access")


class ClientError(ValueError):
    """Invalid client metadata; the message is fit to show to an operator."""


def validate_redirect_uri(uri: str) -> str:
    """Absolute, no fragment, no wildcard (RFC 6749 §3.1.2, RFC 9700 §4.1.3)."""
    parts = urlsplit(uri)
    if not parts.scheme or "*" in uri or any(c.isspace() for c in uri):
        raise ClientError(f"invalid redirect URI {uri!r}: must be absolute, without wildcards")
    if parts.fragment or "#" in uri:
        raise ClientError(f"invalid redirect URI {uri!r}: must not contain a fragment")
    if parts.scheme in ("http", "https") and not parts.hostname:
        raise ClientError(f"invalid redirect URI {uri!r}: no host")
    if parts.scheme in ("javascript", "data", "file", "vbscript"):
        raise ClientError(f"invalid redirect URI {uri!r}: scheme not allowed")
    return uri


@dataclass
class NewClient:
    client: Client
    client_secret: str | None  # shown once, stored only hashed


def _check_choices(values: list[str], allowed: tuple[str, ...], what: str) -> None:
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise ClientError(f"unknown {what}: {', '.join(unknown)}")


_ID_ALPHABET = string.ascii_letters + string.digits


def _new_client_id() -> str:
    """24 letters and digits (~143 bits): never starts with '-', so it pastes into any CLI."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(24))


def create_client(*, name: str, redirect_uris: list[str] = (), post_logout_redirect_uris=(),
                  is_public: bool = False, grant_types: list[str] | None = None,
                  scopes: list[str] | None = None, auth_method: str | None = None,
                  is_first_party: bool = False, client_id: str | None = None,
                  client_secret: str | None = None, **extra) -> NewClient:
    """Validate and add a client to the session (the caller commits)."""
    if not name or not name.strip():
        raise ClientError("a client needs a name")
    grant_types = list(grant_types or (["authorization_code", "refresh_token"]))
    _check_choices(grant_types, GRANT_TYPES, "grant type")
    auth_method = auth_method or ("none" if is_public else "client_secret_basic")
    _check_choices([auth_method], AUTH_METHODS, "auth method")
    if is_public and auth_method != "none":
        raise ClientError("a public client authenticates with 'none'")
    if not is_public and auth_method == "none":
        raise ClientError("auth method 'none' is only for public clients (--public)")
    if is_public and "client_credentials" in grant_types:
        raise ClientError("a public client cannot use client_credentials")
    if "authorization_code" in grant_types and not redirect_uris:
        raise ClientError("the authorization_code grant needs at least one redirect URI")
    redirect_uris = [validate_redirect_uri(u) for u in redirect_uris]
    post_logout_redirect_uris = [validate_redirect_uri(u) for u in post_logout_redirect_uris]
    client_id = client_id or _new_client_id()
    if db.session.get(Client, client_id) is not None:
        raise ClientError(f"client {client_id!r} already exists")
    if is_public:
        client_secret = None
    elif client_secret is None and auth_method != "private_key_jwt":
        client_secret = secrets.token_urlsafe(32)
    client = Client(client_id=client_id, name=name.strip(), redirect_uris=redirect_uris,
                    post_logout_redirect_uris=post_logout_redirect_uris,
                    grant_types=grant_types, scopes=list(scopes or DEFAULT_SCOPES),
                    token_endpoint_auth_method=auth_method, is_public=is_public,
                    is_first_party=is_first_party, **extra)
    client.set_secret(client_secret)
    db.session.add(client)
    return NewClient(client, client_secret)


def describe_client(client: Client) -> dict:
    """Public description (never the secret hash)."""
    return {
        "client_id": client.client_id, "name": client.name, "logo_url": client.logo_url,
        "redirect_uris": client.redirect_uris,
        "post_logout_redirect_uris": client.post_logout_redirect_uris,
        "grant_types": client.grant_types, "scopes": client.scopes,
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
        "public": client.is_public, "first_party": client.is_first_party,
        "created_at": client.created_at.isoformat() if client.created_at else None,
    }
