"""Admin API: users."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pyotp
import pytest

from app.accounts.mfa import store_totp_secret
from app.accounts.passwords import verify_password
from app.accounts.users import create_user
from app.extensions import db, frontdesk_state
from app.models import AuditEvent, Client, RefreshToken, User
from app.oauth.tokens import CUT_PREFIX
from tests.admin.conftest import assert_problem
from tests.hosted.helpers import login, signed_in_as

PASSWORD = "a perfectly fine password 42"


def new_user(api, **body) -> dict:
    body.setdefault("email", "new@example.com")
    response = api.post("/users", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def outbox(app) -> list:
    folder = Path(frontdesk_state(app).settings.mail_outbox)
    return [message_from_bytes(p.read_bytes(), policy=default_policy)
            for p in sorted(folder.glob("*.eml"))] if folder.exists() else []


def audit_types(app) -> list[str]:
    with app.app_context():
        return db.session.scalars(db.select(AuditEvent.type).order_by(AuditEvent.id)).all()


# --- create ---------------------------------------------------------------------------------


def test_create_with_a_temporary_password(app, api):
    response = api.post("/users", json={
        "email": "Ann@Example.COM", "email_verified": True, "temporary_password": True,
        "attributes": {"name": "Ann", "plan": "pro", "seats": 3, "beta": True,
                       "renews_at": "2030-01-02T03:04:05+02:00", "org_id": "acme"}})
    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"].endswith(f"/admin/api/v1/users/{body['id']}")
    assert body["email"] == "Ann@example.com" and body["email_verified"] is True
    assert body["attributes"] == {"name": "Ann", "plan": "pro", "seats": 3, "beta": True,
                                  "renews_at": "2030-01-02T01:04:05Z", "org_id": "acme"}
    assert body["has_password"] and body["invitation_sent"] is False
    with app.app_context():
        user = db.session.get(User, body["id"])
        assert verify_password(frontdesk_state().settings, user.password_hash,
                               body["temporary_password"])
        event = db.session.scalar(db.select(AuditEvent))
        assert (event.type, event.user_id, event.client_id, event.ip) == (
            "admin.user.created", user.id, api.client_id, "127.0.0.1")
        assert event.actor == f"admin-api:{api.client_id}"
        assert event.details == {"email": "Ann@example.com", "temporary_password": True}


def test_create_with_an_invitation_mail(app, api):
    body = new_user(api, email="invited@example.com", send_invitation=True)
    assert body["invitation_sent"] is True and body["temporary_password"] is None
    assert body["has_password"] is False
    assert audit_types(app) == ["admin.user.created", "admin.user.invited"]
    mails = outbox(app)
    assert [m["To"] for m in mails] == ["invited@example.com"]
    assert "/password/reset?" in mails[0].get_body(("plain",)).get_content()


def test_create_with_a_chosen_password(app, api):
    body = new_user(api, password=PASSWORD, groups=[])
    with app.app_context():
        assert verify_password(frontdesk_state().settings,
                               db.session.get(User, body["id"]).password_hash, PASSWORD)


@pytest.mark.parametrize("body, fields", [
    ({"email": "x@example.com", "password": "short"}, ["password"]),
    ({"email": "x@example.com", "password": PASSWORD, "temporary_password": True},
     ["password"]),
    ({"email": "not an address"}, ["email"]),
    ({"email": "x@example.com", "attributes": {"colour": "red"}}, ["attributes/colour"]),
    ({"email": "x@example.com", "attributes": {"plan": "gold"}}, ["attributes/plan"]),
    ({"email": "x@example.com", "attributes": {"seats": 0}}, ["attributes/seats"]),
    ({"email": "x@example.com", "attributes": {"seats": "3"}}, ["attributes/seats"]),
    ({"email": "x@example.com", "attributes": {"renews_at": "soon"}},
     ["attributes/renews_at"]),
    ({"email": "x@example.com", "groups": ["no-such-group"]}, ["groups"]),
    ({"email": "x@example.com", "surprise": 1}, ["surprise"]),
    ({"email": 42}, ["email"]),
    ({}, ["email"]),
    ({"email": "a\u0000b@example.com"}, ["(body)"]),
    ({"email": "x@example.com", "attributes": {"name": "nul\u0000"}}, ["(body)"]),
])
def test_create_refuses_bad_bodies(api, body, fields):
    assert_problem(api.post("/users", json=body), 422, *fields)


@pytest.mark.parametrize("data, content_type, status", [
    ("{not json", "application/json", 400),
    ("NaN", "application/json", 400),
    ('{"email": "a@example.com"}', "text/plain", 415),
    ("[1, 2]", "application/json", 422),
    ("", "application/json", 400),
])
def test_create_refuses_malformed_requests(api, data, content_type, status):
    response = api.post("/users", data=data, headers={"Content-Type": content_type})
    assert_problem(response, status)


def test_duplicate_email_is_a_conflict(api):
    new_user(api, email="dup@example.com")
    assert_problem(api.post("/users", json={"email": "DUP@example.com"}), 409)


# --- read -----------------------------------------------------------------------------------


def test_get_and_unknown_user(api):
    created = new_user(api)
    got = api.get(f"/users/{created['id']}")
    assert got.status_code == 200
    assert got.get_json() == {k: v for k, v in created.items()
                              if k not in ("temporary_password", "invitation_sent")}
    assert_problem(api.get("/users/00000000-0000-4000-8000-000000000000"), 404)
    assert_problem(api.get("/users/" + "x" * 300), 404)


def test_list_filters_and_pages(app, api):
    assert api.post("/groups", json={"name": "staff"}).status_code == 201
    for i, email in enumerate(["b_1@example.com", "a%2@example.com", "bob@example.com",
                               "Bea@example.com", "carl@example.net"]):
        new_user(api, email=email, groups=["staff"] if i % 2 == 0 else [])
    users = api.get("/users").get_json()["users"]
    assert [u["email"] for u in users] == ["a%2@example.com", "b_1@example.com",
                                          "Bea@example.com", "bob@example.com",
                                          "carl@example.net"]
    def emails(query):
        response = api.get("/users?" + query)
        assert response.status_code == 200, response.get_json()
        return [u["email"] for u in response.get_json()["users"]]
    assert emails("email=B") == ["b_1@example.com", "Bea@example.com", "bob@example.com"]
    assert emails("email=b_") == ["b_1@example.com"]  # _ is literal
    assert emails("email=a%25") == ["a%2@example.com"]  # so is %
    assert emails("group=staff") == ["b_1@example.com", "bob@example.com", "carl@example.net"]
    bea = users[2]["id"]
    api.post(f"/users/{bea}/disable")
    assert emails("status=disabled") == ["Bea@example.com"]
    assert emails("status=enabled&email=b") == ["b_1@example.com", "bob@example.com"]
    seen, cursor = [], None
    while True:
        page = api.get("/users?limit=2" + (f"&cursor={cursor}" if cursor else "")).get_json()
        seen += [u["email"] for u in page["users"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [u["email"] for u in users]


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=abc", "cursor=%%%",
                                   "cursor=WzFd", "status=gone", "limit=1&limit=2",
                                   "email=a%00b", "group=%00"])
def test_list_refuses_bad_parameters(api, query):
    assert_problem(api.get("/users?" + query), 400)


def test_nul_in_a_path_is_refused_before_the_database(api):
    assert_problem(api.get("/users/a%00b"), 400)
    assert_problem(api.delete("/groups/a%00b"), 400)


# --- change ---------------------------------------------------------------------------------


def test_update_email_and_attributes(app, api):
    created = new_user(api, email_verified=True,
                       attributes={"plan": "free", "name": "N", "org_id": "acme"})
    other = new_user(api, email="other@example.com")
    path = f"/users/{created['id']}"
    response = api.patch(path, json={"email": "renamed@example.com",
                                     "attributes": {"plan": "pro", "name": None,
                                                    "org_id": "acme"}})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["email"] == "renamed@example.com" and body["email_verified"] is False
    assert body["attributes"] == {"plan": "pro", "org_id": "acme"}
    assert_problem(api.patch(path, json={"attributes": {"org_id": "evil"}}), 422,
                   "attributes/org_id")
    assert_problem(api.patch(path, json={"email": other["email"]}), 409)
    assert_problem(api.patch(path, json={"attributes": {"plan": 3}}), 422, "attributes/plan")
    assert api.patch(path, json={"email_verified": True}).get_json()["email_verified"] is True
    assert audit_types(app).count("admin.user.updated") == 2
    assert_problem(api.patch("/users/nobody", json={}), 404)


def test_disable_ends_sessions_and_tokens_then_enable(app, api, client, user, oauth_client):
    assert login(client, user["email"], user["password"]).status_code == 303
    assert signed_in_as(client) == user["id"]
    with app.app_context():
        db.session.add(RefreshToken(
            token_hash="h" * 64, family_id="f", client_id=oauth_client["client_id"],
            user_id=user["id"], expires_at=datetime.now(UTC) + timedelta(days=1)))
        db.session.commit()
    response = api.post(f"/users/{user['id']}/disable")
    assert response.status_code == 200 and response.get_json()["status"] == "disabled"
    assert signed_in_as(client) is None
    with app.app_context():
        assert db.session.get(RefreshToken, "h" * 64).revoked is True
    assert login(client, user["email"], user["password"]).status_code != 303
    assert api.post(f"/users/{user['id']}/enable").get_json()["status"] == "enabled"
    assert login(client, user["email"], user["password"]).status_code == 303
    admin_events = [t for t in audit_types(app) if t.startswith("admin.")]
    assert admin_events[-2:] == ["admin.user.disabled", "admin.user.enabled"]


def test_sign_out_everywhere(app, api, client, user):
    assert login(client, user["email"], user["password"]).status_code == 303
    response = api.post(f"/users/{user['id']}/sign-out")
    assert response.status_code == 200 and response.get_json()["sessions_ended"] >= 1
    assert signed_in_as(client) is None
    assert [t for t in audit_types(app) if t.startswith("admin.")] == ["admin.user.signed_out"]
    with app.app_context():  # the access tokens issued so far are revoked too
        assert frontdesk_state().store.get(CUT_PREFIX + user["id"]) is not None


def test_reset_password_by_mail_or_temporary(app, api, user):
    path = f"/users/{user['id']}/reset-password"
    response = api.post(path)
    assert response.get_json() == {"method": "email", "temporary_password": None}
    assert [m["To"] for m in outbox(app)] == [user["email"]]
    response = api.post(path, json={"method": "temporary_password"})
    temporary = response.get_json()["temporary_password"]
    assert response.get_json()["method"] == "temporary_password" and temporary
    with app.app_context():
        hash_ = db.session.get(User, user["id"]).password_hash
        settings = frontdesk_state().settings
        assert verify_password(settings, hash_, temporary)
        assert not verify_password(settings, hash_, user["password"])
    assert_problem(api.post(path, json={"method": "pigeon"}), 422, "method")


def test_reset_password_of_a_disabled_user_gives_a_temporary_password(app, api, user):
    api.post(f"/users/{user['id']}/disable")
    response = api.post(f"/users/{user['id']}/reset-password")
    assert response.get_json()["method"] == "temporary_password"
    assert outbox(app) == []


def test_reset_mfa(app, api, user):
    with app.app_context():
        u = db.session.get(User, user["id"])
        store_totp_secret(frontdesk_state().settings, u, pyotp.random_base32(), enabled=True)
        u.recovery_code_hashes = ["a" * 64]
        db.session.commit()
    assert api.get(f"/users/{user['id']}").get_json()["mfa_enabled"] is True
    response = api.post(f"/users/{user['id']}/reset-mfa")
    assert response.get_json()["mfa_enabled"] is False
    with app.app_context():
        u = db.session.get(User, user["id"])
        assert (u.totp_secret, u.totp_enabled, u.recovery_code_hashes) == (None, False, [])


def test_delete(app, api, user):
    response = api.delete(f"/users/{user['id']}")
    assert response.status_code == 204 and response.data == b""
    assert_problem(api.get(f"/users/{user['id']}"), 404)
    assert_problem(api.delete(f"/users/{user['id']}"), 404)
    with app.app_context():
        event = db.session.scalar(db.select(AuditEvent).where(
            AuditEvent.type == "admin.user.deleted"))
        assert event.user_id == user["id"] and event.details["email"] == user["email"]
        assert db.session.get(Client, api.client_id) is not None


def test_user_groups_are_listed_by_precedence(app, api):
    api.post("/groups", json={"name": "zeta", "precedence": 1})
    api.post("/groups", json={"name": "alpha", "precedence": 9})
    api.post("/groups", json={"name": "beta", "precedence": 1})
    created = new_user(api, groups=["alpha", "zeta", "beta"])
    assert created["groups"] == ["beta", "zeta", "alpha"]


def test_list_attributes(api):
    response = api.get("/attributes", scopes=("admin:users:read",))
    names = {a["name"]: a for a in response.get_json()["attributes"]}
    assert names["plan"]["enum"] == ["free", "pro"] and names["plan"]["custom"] is True
    assert names["name"]["custom"] is False
    assert names["org_id"]["mutable"] is False and names["org_id"]["claim"] == "org"


def test_read_scope_cannot_write(api, app):
    with app.app_context():
        create_user(frontdesk_state().settings, email="r@example.com", password=None)
        db.session.commit()
    assert api.get("/users", scopes=("admin:users:read",)).status_code == 200
    assert_problem(api.post("/users", scopes=("admin:users:read",),
                            json={"email": "w@example.com"}), 403)
