"""Registered OAuth clients (relying parties)."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models._types import UTCDateTime, utcnow


def _is_loopback_host(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def hash_client_secret(secret: str) -> str:
    """Client secrets are high-entropy random strings: SHA-256 is enough and fast."""
    return hashlib.sha256(secret.encode()).hexdigest()


class Client(db.Model):
    __tablename__ = "clients"

    client_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    client_secret_hash: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    logo_url: Mapped[str | None] = mapped_column(Text)
    redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    post_logout_redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    grant_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    token_endpoint_auth_method: Mapped[str] = mapped_column(
        String(32), default="client_secret_basic")
    is_public: Mapped[bool] = mapped_column(default=False)
    is_first_party: Mapped[bool] = mapped_column(default=False)
    jwks: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    jwks_uri: Mapped[str | None] = mapped_column(Text)
    id_token_signed_response_alg: Mapped[str] = mapped_column(String(16), default="RS256")
    access_token_seconds: Mapped[int | None] = mapped_column()
    refresh_token_seconds: Mapped[int | None] = mapped_column()
    theme: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def set_secret(self, secret: str | None) -> None:
        self.client_secret_hash = hash_client_secret(secret) if secret else None

    def secret_matches(self, secret: str | None) -> bool:
        """Constant-time comparison of the presented secret's hash."""
        if not secret or not self.client_secret_hash:
            return False
        return hmac.compare_digest(hash_client_secret(secret), self.client_secret_hash)

    # --- Authlib ClientMixin (duck-typed: models never import authlib) -------------------

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        """None: every authorization request must name its redirect_uri (OIDC Core 3.1.2.1)."""
        return None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """The requested scopes this client may have, in request order; None when the
        request named scopes but none of them is allowed (-> invalid_scope)."""
        requested = list(dict.fromkeys((scope or "").split()))
        allowed = [s for s in requested if s in set(self.scopes or ())]
        if requested and not allowed:
            return None
        return " ".join(allowed)

    def check_redirect_uri(self, redirect_uri: str | None) -> bool:
        """Exact match (RFC 9700 4.1.3); public clients may vary the port of a registered
        http loopback URI (RFC 8252 7.3)."""
        if not redirect_uri:
            return False
        registered = self.redirect_uris or []
        if redirect_uri in registered:
            return True
        return self.is_public and any(
            _same_loopback_uri(uri, redirect_uri) for uri in registered)

    def check_client_secret(self, client_secret: str) -> bool:
        return self.secret_matches(client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        """A client authenticates only with its registered method, at every endpoint."""
        return method == self.token_endpoint_auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in (self.grant_types or [])

    def check_grant_type(self, grant_type: str) -> bool:
        if grant_type == "client_credentials" and self.is_public:
            return False
        return grant_type in (self.grant_types or [])

    @property
    def client_metadata(self) -> dict[str, Any]:
        return {"post_logout_redirect_uris": list(self.post_logout_redirect_uris or []),
                "id_token_signed_response_alg": self.id_token_signed_response_alg}

    def origins(self) -> set[str]:
        """Web origins of the registered redirect URIs (for CORS)."""
        found = set()
        for uri in self.redirect_uris or []:
            parts = urlsplit(uri)
            if parts.scheme in ("http", "https") and parts.netloc:
                found.add(f"{parts.scheme}://{parts.netloc}")
        return found


def _same_loopback_uri(registered: str, presented: str) -> bool:
    reg, got = urlsplit(registered), urlsplit(presented)
    if reg.scheme != "http" or got.scheme != "http" or not _is_loopback_host(reg.hostname):
        return False
    try:
        got.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return False
    return (reg.hostname == got.hostname and reg.path == got.path
            and reg.query == got.query and not got.fragment)
