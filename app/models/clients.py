"""Registered OAuth clients (relying parties)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models._types import UTCDateTime, utcnow


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
