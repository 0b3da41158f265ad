"""Users and groups."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    event,
    func,
    inspect,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.orm.attributes import flag_modified

from app.extensions import db
from app.models._types import UTCDateTime, new_id, utcnow

user_groups = Table(
    "user_groups",
    db.metadata,
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_user_groups_group_id", "group_id"),
)


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(320))
    email_verified: Mapped[bool] = mapped_column(default=False)
    password_hash: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="enabled")
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    totp_secret: Mapped[str | None] = mapped_column(Text)  # sealed with app.secretbox
    totp_enabled: Mapped[bool] = mapped_column(default=False)
    recovery_code_hashes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    groups: Mapped[list[Group]] = relationship(
        secondary=user_groups, back_populates="members", order_by="Group.precedence")

    @property
    def is_enabled(self) -> bool:
        return self.status == "enabled"

    @classmethod
    def find_by_email(cls, email: str) -> User | None:
        return db.session.scalar(
            db.select(cls).where(func.lower(cls.email) == email.strip().lower()))


Index("uq_users_email_lower", func.lower(User.email), unique=True)

#: What a sign-in writes; it is not a change of the user's information.
LOGIN_ONLY_CHANGES = frozenset({"last_login_at"})


@event.listens_for(User, "before_update")
def _keep_updated_at_on_login(mapper, connection, target: User) -> None:
    """updated_at is when the user's information last changed (the OIDC `updated_at`
    claim, the admin API's field): a flush that only records a sign-in keeps it, where the
    column's onupdate would move it. Core UPDATEs of last_login_at set it to itself."""
    state = inspect(target)
    changed = {attr.key for attr in state.attrs if attr.history.has_changes()}
    if changed and changed <= LOGIN_ONLY_CHANGES:
        flag_modified(target, "updated_at")  # written back as it is: onupdate skipped


class Group(db.Model):
    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    precedence: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    members: Mapped[list[User]] = relationship(secondary=user_groups, back_populates="groups")
