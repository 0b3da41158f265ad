"""The user as the claims functions read it, loaded without the ORM for the userinfo
endpoint.

userinfo runs once per API call of every app; loading an ORM User with its groups cost a
checkout, BEGIN, hydration of two entities and a ROLLBACK at teardown — most of the
request. Here one SELECT (users LEFT JOIN groups) runs on an autocommit connection and the
row becomes a frozen snapshot with the attributes app.oauth.claims, app.triggers and the
custom-attribute claim source read (id, email, email_verified, status, attributes,
updated_at, groups with name and precedence).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select

from app.extensions import db
from app.models import Group, User, user_groups
from app.readonly_db import fetch_rows


@dataclass(frozen=True)
class GroupRef:
    name: str
    precedence: int


@dataclass(frozen=True)
class ClaimsUser:
    id: str
    email: str
    email_verified: bool
    status: str
    attributes: dict[str, Any]
    updated_at: datetime | None
    groups: tuple[GroupRef, ...]

    @property
    def is_enabled(self) -> bool:
        return self.status == "enabled"


_users, _groups = User.__table__.c, Group.__table__.c
#: The columns a ClaimsUser is built from, last in a SELECT (claims_user_of reads them from
#: the end of each row); plain table columns, not ORM attributes, so results need no
#: per-call adaptation.
USER_COLUMNS = (_users.id, _users.email, _users.email_verified, _users.status,
                _users.attributes, _users.updated_at, _groups.name, _groups.precedence)


def with_user_and_groups(selectable, user_id_column):
    """`selectable` joined to the user `user_id_column` names and its groups (outer)."""
    return (selectable.join(User.__table__, _users.id == user_id_column)
            .outerjoin(user_groups, user_groups.c.user_id == _users.id)
            .outerjoin(Group.__table__, _groups.id == user_groups.c.group_id))


def claims_user_of(rows: list) -> ClaimsUser:
    """The user of rows ending in USER_COLUMNS (one row per group, or one with NULLs)."""
    id_, email, verified, status, attributes, updated_at = rows[0][-8:-2]
    groups = tuple(GroupRef(r[-2], r[-1]) for r in rows if r[-2] is not None)
    return ClaimsUser(id=id_, email=email, email_verified=bool(verified), status=status,
                      attributes=attributes or {}, updated_at=updated_at, groups=groups)


# One statement object with a bound parameter: compiled once.
_QUERY = (
    select(*USER_COLUMNS)
    .select_from(User.__table__.outerjoin(user_groups, user_groups.c.user_id == _users.id)
                 .outerjoin(Group.__table__, _groups.id == user_groups.c.group_id))
    .where(_users.id == bindparam("user_id"))
)


def load_claims_user(user_id: str) -> ClaimsUser | None:
    """The enabled user `user_id` with its groups, in one autocommit query; else None."""
    if not user_id or len(user_id) > 36:
        return None
    rows = fetch_rows(db.engine, _QUERY, {"user_id": user_id})
    if not rows:
        return None
    user = claims_user_of(rows)
    return user if user.is_enabled else None
