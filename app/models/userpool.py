"""What the user-pool API keeps beyond users and clients: which auth flows an app client
allows, a user's pool state (temporary password, SRP verifier) and SigV4 access keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models._types import UTCDateTime, utcnow


class PoolClient(db.Model):
    """An app client's pool settings; a client without a row gets the pool's defaults."""

    __tablename__ = "userpool_clients"

    client_id: Mapped[str] = mapped_column(
        String(128), ForeignKey("clients.client_id", ondelete="CASCADE"), primary_key=True)
    auth_flows: Mapped[list[str]] = mapped_column(JSON, default=list)
    # SECRET_HASH is an HMAC keyed with the client secret, which the clients table keeps
    # only as a digest: the secret is kept sealed here when the client is registered.
    secret_sealed: Mapped[str | None] = mapped_column(Text)


class PoolUser(db.Model):
    """A user's pool state. The SRP verifier allows an offline guess of the password, so
    it is stored sealed (app.secretbox), like TOTP secrets."""

    __tablename__ = "userpool_users"

    user_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    force_password_change: Mapped[bool] = mapped_column(default=False)
    srp_verifier: Mapped[str | None] = mapped_column(Text)  # sealed "salt:verifier" (hex)


class PoolAccessKey(db.Model):
    """A SigV4 key pair for the admin actions. SigV4 needs the secret itself to check a
    signature, so it is kept sealed rather than hashed."""

    __tablename__ = "userpool_access_keys"

    access_key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    secret_sealed: Mapped[str] = mapped_column(Text)
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
