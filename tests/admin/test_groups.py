"""Groups: the domain rules and the admin API."""

from __future__ import annotations

import pytest

from app.accounts.groups import (
    GroupError,
    GroupExists,
    add_member,
    create_group,
    ordered_group_names,
    remove_member,
    set_user_groups,
    update_group,
)
from app.accounts.users import create_user
from app.extensions import db, frontdesk_state
from app.models import AuditEvent, Group, User
from tests.admin.conftest import assert_problem


def test_domain_rules(app):
    with app.app_context():
        settings = frontdesk_state().settings
        user = create_user(settings, email="g@example.com", password=None)
        ops = create_group("ops", "On call", 3)
        admins = create_group("admins", precedence=1)
        with pytest.raises(GroupExists):
            create_group("ops")
        for bad in ["", "has space", "-leading", "x" * 129, "semi;colon", None, 7]:
            with pytest.raises(GroupError):
                create_group(bad)
        with pytest.raises(GroupError):
            create_group("neg", precedence=-1)
        with pytest.raises(GroupError):
            create_group("boolean", precedence=True)
        assert add_member(ops, user) and not add_member(ops, user)
        add_member(admins, user)
        assert ordered_group_names(user) == ["admins", "ops"]
        update_group(ops, precedence=0)
        assert ordered_group_names(user) == ["ops", "admins"]
        with pytest.raises(GroupExists):
            update_group(ops, name="admins")
        assert remove_member(ops, user) and not remove_member(ops, user)
        with pytest.raises(GroupError, match="no group"):
            set_user_groups(user, ["missing"])
        set_user_groups(user, ["missing", "ops"], create_missing=True)
        assert ordered_group_names(user) == ["missing", "ops"]


def test_crud(app, api):
    response = api.post("/groups", json={"name": "admins", "description": "Operators",
                                         "precedence": 1})
    assert response.status_code == 201
    assert response.headers["Location"].endswith("/admin/api/v1/groups/admins")
    created = response.get_json()
    assert {k: created[k] for k in ("name", "description", "precedence", "member_count")} == {
        "name": "admins", "description": "Operators", "precedence": 1, "member_count": 0}
    assert api.get("/groups/admins").get_json() == created
    assert_problem(api.post("/groups", json={"name": "admins"}), 409)
    renamed = api.patch("/groups/admins", json={"name": "operators", "precedence": 2})
    assert renamed.status_code == 200
    assert renamed.get_json()["name"] == "operators"
    assert renamed.get_json()["description"] == "Operators"
    assert_problem(api.get("/groups/admins"), 404)
    api.post("/groups", json={"name": "taken"})
    assert_problem(api.patch("/groups/operators", json={"name": "taken"}), 409)
    assert api.delete("/groups/operators").status_code == 204
    assert_problem(api.delete("/groups/operators"), 404)
    with app.app_context():
        types = db.session.scalars(db.select(AuditEvent.type).order_by(AuditEvent.id)).all()
    assert types == ["admin.group.created", "admin.group.updated", "admin.group.created",
                     "admin.group.deleted"]


@pytest.mark.parametrize("body, field", [
    ({"name": "bad name"}, "name"), ({"name": ""}, "name"), ({}, "name"),
    ({"name": "ok", "precedence": -1}, "precedence"),
    ({"name": "ok", "precedence": 1.5}, "precedence"),
    ({"name": "ok", "description": "x" * 3000}, "description"),
    ({"name": "ok", "members": []}, "members"),
])
def test_create_refuses_bad_bodies(api, body, field):
    assert_problem(api.post("/groups", json=body), 422, field)


def test_members(app, api):
    api.post("/groups", json={"name": "staff"})
    ids = []
    with app.app_context():
        for email in ["c@example.com", "a@example.com", "b@example.com"]:
            created = create_user(frontdesk_state().settings, email=email, password=None)
            db.session.flush()
            ids.append(created.id)
        db.session.commit()
    for user_id in ids:
        assert api.put(f"/groups/staff/members/{user_id}").status_code == 204
    assert api.put(f"/groups/staff/members/{ids[0]}").status_code == 204  # idempotent
    assert api.get("/groups/staff").get_json()["member_count"] == 3
    first = api.get("/groups/staff/members?limit=2").get_json()
    assert [m["email"] for m in first["members"]] == ["a@example.com", "b@example.com"]
    second = api.get(f"/groups/staff/members?limit=2&cursor={first['next_cursor']}").get_json()
    assert second == {"members": [{"id": ids[0], "email": "c@example.com"}],
                      "next_cursor": None}
    assert api.delete(f"/groups/staff/members/{ids[1]}").status_code == 204
    assert api.delete(f"/groups/staff/members/{ids[1]}").status_code == 204
    assert_problem(api.put("/groups/staff/members/nobody"), 404)
    assert_problem(api.put(f"/groups/nothing/members/{ids[0]}"), 404)
    assert_problem(api.get("/groups/nothing/members"), 404)
    assert api.delete("/groups/staff").status_code == 204
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 3
        events = db.session.scalars(db.select(AuditEvent).where(
            AuditEvent.type.like("admin.group.member%")).order_by(AuditEvent.id)).all()
        assert [(e.type, e.user_id) for e in events] == [
            ("admin.group.member_added", ids[0]), ("admin.group.member_added", ids[1]),
            ("admin.group.member_added", ids[2]), ("admin.group.member_removed", ids[1])]


def test_list_pages_by_name(app, api):
    for name in ["delta", "alpha", "charlie", "bravo"]:
        api.post("/groups", json={"name": name})
    page = api.get("/groups?limit=3").get_json()
    assert [g["name"] for g in page["groups"]] == ["alpha", "bravo", "charlie"]
    rest = api.get(f"/groups?cursor={page['next_cursor']}").get_json()
    assert [g["name"] for g in rest["groups"]] == ["delta"] and rest["next_cursor"] is None
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Group)) == 4
