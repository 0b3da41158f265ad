"""Groups through the admin actions, on app.accounts.groups: the same groups the hosted
pages' tokens carry in `groups` and the pool's tokens in `cognito:groups`."""

from __future__ import annotations

from typing import Any

from app.accounts.groups import (
    GroupError,
    GroupExists,
    add_member,
    create_group,
    find_group,
    remove_member,
)
from app.extensions import db, frontdesk_state
from app.models import Group, record_event
from app.userpool_api.admin_users import find_user
from app.userpool_api.errors import ApiError, invalid_parameter, require_string
from app.userpool_api.pool import user_pool_id


def describe_group(group: Group) -> dict[str, Any]:
    created = group.created_at.timestamp() if group.created_at else None
    return {"GroupName": group.name, "UserPoolId": user_pool_id(frontdesk_state().settings),
            "Description": group.description, "Precedence": group.precedence,
            "CreationDate": created, "LastModifiedDate": created}


def _group(body: dict) -> Group:
    group = find_group(require_string(body, "GroupName", 128))
    if group is None:
        raise ApiError("ResourceNotFoundException", "Group not found.")
    return group


def create_group_action(body: dict, caller) -> dict[str, Any]:
    try:
        group = create_group(require_string(body, "GroupName", 128),
                             body.get("Description") or "", body.get("Precedence") or 0)
    except GroupExists:
        raise ApiError("GroupExistsException", "A group with the name already exists.") \
            from None
    except GroupError as exc:
        raise invalid_parameter(str(exc)) from None
    record_event("admin.group.created", actor=f"sigv4:{caller.access_key_id}",
                 group=group.name)
    db.session.commit()
    return {"Group": describe_group(group)}


def list_groups(body: dict, caller) -> dict[str, Any]:
    groups = db.session.scalars(db.select(Group).order_by(Group.precedence, Group.name))
    return {"Groups": [describe_group(g) for g in groups]}


def admin_add_user_to_group(body: dict, caller) -> dict[str, Any]:
    group, user = _group(body), find_user(body)
    if add_member(group, user):
        record_event("admin.group.member_added", user_id=user.id, group=group.name,
                     actor=f"sigv4:{caller.access_key_id}")
    db.session.commit()
    return {}


def admin_remove_user_from_group(body: dict, caller) -> dict[str, Any]:
    group, user = _group(body), find_user(body)
    if remove_member(group, user):
        record_event("admin.group.member_removed", user_id=user.id, group=group.name,
                     actor=f"sigv4:{caller.access_key_id}")
    db.session.commit()
    return {}


def admin_list_groups_for_user(body: dict, caller) -> dict[str, Any]:
    user = find_user(body)
    ordered = sorted(user.groups, key=lambda g: (g.precedence, g.name))
    return {"Groups": [describe_group(g) for g in ordered]}


ACTIONS = {
    "CreateGroup": (create_group_action, "admin:groups"),
    "ListGroups": (list_groups, "admin:groups"),
    "AdminAddUserToGroup": (admin_add_user_to_group, "admin:groups"),
    "AdminRemoveUserFromGroup": (admin_remove_user_from_group, "admin:groups"),
    "AdminListGroupsForUser": (admin_list_groups_for_user, "admin:users:read"),
}
