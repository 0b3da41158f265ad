"""Groups: a name, a description, a precedence (lower comes first in the `groups` claim)
and members. The caller commits."""

from __future__ import annotations

import re

from sqlalchemy import func

from app.accounts.users import UserError
from app.extensions import db
from app.models import Group, User, user_groups

GROUP_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@+-]{0,127}$")
MAX_DESCRIPTION = 2048
MIN_PRECEDENCE, MAX_PRECEDENCE = 0, 2**31 - 1


class GroupError(UserError):
    """Invalid group data; the message is fit to show to an operator."""


class GroupExists(GroupError):  # noqa: N818 - reads as a condition
    """A group with this name exists already."""


def validate_group_name(name: object) -> str:
    if not isinstance(name, str) or not GROUP_NAME_RE.match(name):
        raise GroupError("a group name is 1-128 letters, digits or _ . : @ + - "
                         "and starts with a letter or digit")
    return name


def validate_description(description: object) -> str:
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
        raise GroupError(f"a description is a string of at most {MAX_DESCRIPTION} characters")
    return description


def validate_precedence(precedence: object) -> int:
    if isinstance(precedence, bool) or not isinstance(precedence, int) \
            or not MIN_PRECEDENCE <= precedence <= MAX_PRECEDENCE:
        raise GroupError(f"precedence is a whole number from {MIN_PRECEDENCE} to "
                         f"{MAX_PRECEDENCE} (lower comes first)")
    return precedence


def find_group(name: str) -> Group | None:
    return db.session.scalar(db.select(Group).where(Group.name == name))


def create_group(name: str, description: str = "", precedence: int = 0) -> Group:
    name = validate_group_name(name)
    if find_group(name) is not None:
        raise GroupExists(f"group {name!r} already exists")
    group = Group(name=name, description=validate_description(description),
                  precedence=validate_precedence(precedence))
    db.session.add(group)
    return group


def update_group(group: Group, *, name: str | None = None, description: str | None = None,
                 precedence: int | None = None) -> Group:
    """Rename and/or change description and precedence."""
    if name is not None and name != group.name:
        validate_group_name(name)
        if find_group(name) is not None:
            raise GroupExists(f"group {name!r} already exists")
        group.name = name
    if description is not None:
        group.description = validate_description(description)
    if precedence is not None:
        group.precedence = validate_precedence(precedence)
    return group


def delete_group(group: Group) -> None:
    db.session.delete(group)


def add_member(group: Group, user: User) -> bool:
    """Idempotent; True when the user was not a member yet."""
    if group in user.groups:
        return False
    user.groups.append(group)
    return True


def remove_member(group: Group, user: User) -> bool:
    """Idempotent; True when the user was a member."""
    if group not in user.groups:
        return False
    user.groups.remove(group)
    return True


def set_user_groups(user: User, names: list[str], *, create_missing: bool = False) -> None:
    """Replace a user's groups by name (unknown names are an error unless create_missing)."""
    groups = []
    for name in dict.fromkeys(names):
        group = find_group(name)
        if group is None:
            if not create_missing:
                raise GroupError(f"no group named {name!r}")
            group = create_group(name)
        groups.append(group)
    user.groups = groups


def ordered_group_names(user: User) -> list[str]:
    """The `groups` claim: by precedence, then name."""
    return [g.name for g in sorted(user.groups, key=lambda g: (g.precedence, g.name))]


def member_count(group: Group) -> int:
    return db.session.scalar(db.select(func.count()).select_from(user_groups)
                             .where(user_groups.c.group_id == group.id)) or 0
