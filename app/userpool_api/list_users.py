"""ListUsers with the pool's Filter syntax: `attribute = "value"` (exact) or
`attribute ^= "value"` (prefix) on email, sub, status (Enabled | Disabled) and
cognito:user_status; pages by PaginationToken, newest users last."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, literal, select

from app.extensions import db
from app.models import PoolUser, User
from app.userpool_api.admin_users import describe
from app.userpool_api.errors import invalid_parameter

_FILTER = re.compile(r'^\s*"?(?P<name>[\w:]+)"?\s*(?P<op>\^?=)\s*"(?P<value>[^"]*)"\s*$')
MAX_LIMIT = 60


def _like_prefix(column, prefix: str):
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(func.lower(literal(escaped + "%")), escape="\\")


def _condition(name: str, op: str, value: str):
    if name == "email":
        return _like_prefix(User.email, value) if op == "^=" else \
            func.lower(User.email) == value.lower()
    if name in ("sub", "username"):
        return User.id.startswith(value, autoescape=True) if op == "^=" else User.id == value
    if name == "status" and op == "=" and value in ("Enabled", "Disabled"):
        return User.status == value.lower()
    if name == "cognito:user_status" and op == "=":
        return _user_status(value)
    raise invalid_parameter(f"Invalid search attribute or filter: {name} {op}")


def _user_status(value: str):
    forced = select(PoolUser.user_id).where(PoolUser.force_password_change.is_(True))
    conditions = {
        "FORCE_CHANGE_PASSWORD": User.id.in_(forced),
        "UNCONFIRMED": User.id.not_in(forced) & User.email_verified.is_(False),
        "CONFIRMED": User.id.not_in(forced) & User.email_verified.is_(True)
        & User.password_hash.is_not(None),
        "RESET_REQUIRED": User.id.not_in(forced) & User.email_verified.is_(True)
        & User.password_hash.is_(None),
    }
    if value not in conditions:
        raise invalid_parameter(f"Unknown cognito:user_status {value}")
    return conditions[value]


def _page(body: dict) -> tuple[int, int]:
    limit, token = body.get("Limit", MAX_LIMIT), body.get("PaginationToken") or "0"
    if isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= MAX_LIMIT:
        raise invalid_parameter(f"Limit is 0 to {MAX_LIMIT}.")
    if not isinstance(token, str) or not token.isdigit() or len(token) > 9:
        raise invalid_parameter("Invalid PaginationToken.")
    return limit or MAX_LIMIT, int(token)


def list_users(body: dict, caller) -> dict[str, Any]:
    query = select(User).order_by(User.created_at, User.id)
    text = body.get("Filter")
    if text:
        match = _FILTER.match(text) if isinstance(text, str) else None
        if match is None:
            raise invalid_parameter('Filter must be like: email ^= "ada"')
        query = query.where(_condition(match["name"], match["op"], match["value"]))
    limit, offset = _page(body)
    users = list(db.session.scalars(query.offset(offset).limit(limit + 1)))
    wanted = body.get("AttributesToGet")
    answer: dict[str, Any] = {"Users": [_listed(u, wanted) for u in users[:limit]]}
    if len(users) > limit:
        answer["PaginationToken"] = str(offset + limit)
    return answer


def _listed(user: User, wanted: Any) -> dict[str, Any]:
    described = describe(user)
    if isinstance(wanted, list) and wanted:
        described["Attributes"] = [a for a in described["Attributes"] if a["Name"] in wanted]
    return described


ACTIONS = {"ListUsers": (list_users, "admin:users:read")}
