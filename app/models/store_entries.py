"""Tables of the embedded ephemeral store (used when no Redis is configured)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class StoreEntry(db.Model):
    __tablename__ = "store_entries"
    __table_args__ = (Index("ix_store_entries_expires_at", "expires_at"),)

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str | None] = mapped_column(Text)
    counter: Mapped[int] = mapped_column(BigInteger, default=0)
    expires_at: Mapped[float] = mapped_column(Float)


class StoreMember(db.Model):
    __tablename__ = "store_members"
    __table_args__ = (Index("ix_store_members_expires_at", "expires_at"),)

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    member: Mapped[str] = mapped_column(String(255), primary_key=True)
    expires_at: Mapped[float] = mapped_column(Float)
