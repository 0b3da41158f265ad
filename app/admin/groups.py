"""Admin API: groups (CRUD) and their members."""

from __future__ import annotations

from typing import Any

from flask import url_for
from sqlalchemy import func

from app.accounts.groups import (
    GroupError,
    GroupExists,
    add_member,
    create_group,
    delete_group,
    find_group,
    member_count,
    remove_member,
    update_group,
)
from app.admin.auth import audit, require_scope
from app.admin.blueprint import bp, json_response, no_content
from app.admin.bodies import decode_cursor, encode_cursor, json_body, query_params
from app.admin.openapi import PAGE_QUERY, admin_schemas
from app.admin.problems import conflict, not_found, validation_problem
from app.admin.users import find_user
from app.extensions import db
from app.models import Group, User

SCOPE = "admin:groups"


def group_resource(group: Group) -> dict[str, Any]:
    return {"name": group.name, "description": group.description or "",
            "precedence": group.precedence, "member_count": member_count(group),
            "created_at": group.created_at.isoformat()}


def _group(name: str) -> Group:
    group = find_group(name)
    if group is None:
        raise not_found("group")
    return group


def _apply(action, *args, **kwargs):
    """Run a domain change; its errors become 409 (name taken) or 422."""
    try:
        return action(*args, **kwargs)
    except GroupExists as exc:
        raise conflict(str(exc)) from None
    except GroupError as exc:
        raise validation_problem({"group": str(exc)}) from None


@bp.get("/groups")
@require_scope(SCOPE)
def list_groups():
    args = query_params(PAGE_QUERY)
    key, limit = decode_cursor(args.get("cursor")), args.get("limit", 50)
    stmt = db.select(Group).order_by(Group.name)
    if key:
        stmt = stmt.where(Group.name > key[0])
    groups = db.session.scalars(stmt.limit(limit + 1)).all()
    more = len(groups) > limit
    return json_response({"groups": [group_resource(g) for g in groups[:limit]],
                          "next_cursor": encode_cursor(groups[limit - 1].name) if more else None})


@bp.post("/groups")
@require_scope(SCOPE)
def create_group_view():
    body = json_body(admin_schemas()["GroupCreate"])
    group = _apply(create_group, body["name"], body.get("description", ""),
                   body.get("precedence", 0))
    db.session.flush()
    audit("admin.group.created", group=group.name, precedence=group.precedence)
    db.session.commit()
    return json_response(group_resource(group), 201,
                         {"Location": url_for("admin.get_group", group_name=group.name)})


@bp.get("/groups/<group_name>")
@require_scope(SCOPE)
def get_group(group_name: str):
    return json_response(group_resource(_group(group_name)))


@bp.patch("/groups/<group_name>")
@require_scope(SCOPE)
def update_group_view(group_name: str):
    group = _group(group_name)
    body = json_body(admin_schemas()["GroupUpdate"])
    _apply(update_group, group, name=body.get("name"), description=body.get("description"),
           precedence=body.get("precedence"))
    audit("admin.group.updated", group=group.name, previous_name=group_name,
          fields=sorted(body))
    db.session.commit()
    return json_response(group_resource(group))


@bp.delete("/groups/<group_name>")
@require_scope(SCOPE)
def delete_group_view(group_name: str):
    group = _group(group_name)
    audit("admin.group.deleted", group=group.name)
    delete_group(group)
    db.session.commit()
    return no_content()


@bp.get("/groups/<group_name>/members")
@require_scope(SCOPE)
def list_members(group_name: str):
    group = _group(group_name)
    args = query_params(PAGE_QUERY)
    key, limit = decode_cursor(args.get("cursor")), args.get("limit", 50)
    sort_key = func.lower(User.email)
    stmt = db.select(User, sort_key).where(User.groups.any(Group.id == group.id)) \
        .order_by(sort_key)
    if key:
        stmt = stmt.where(sort_key > key[0])
    rows = db.session.execute(stmt.limit(limit + 1)).all()
    more = len(rows) > limit
    return json_response({
        "members": [{"id": u.id, "email": u.email} for u, _ in rows[:limit]],
        "next_cursor": encode_cursor(rows[limit - 1][1]) if more else None})


@bp.put("/groups/<group_name>/members/<user_id>")
@require_scope(SCOPE)
def add_member_view(group_name: str, user_id: str):
    group, user = _group(group_name), find_user(user_id)
    if add_member(group, user):
        audit("admin.group.member_added", user_id=user.id, group=group.name)
        db.session.commit()
    return no_content()


@bp.delete("/groups/<group_name>/members/<user_id>")
@require_scope(SCOPE)
def remove_member_view(group_name: str, user_id: str):
    group, user = _group(group_name), find_user(user_id)
    if remove_member(group, user):
        audit("admin.group.member_removed", user_id=user.id, group=group.name)
        db.session.commit()
    return no_content()
