"""Export, import, legacy password hashes upgraded at login, lazy migration."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys

import bcrypt
import pyotp
import pytest
from argon2 import PasswordHasher
from werkzeug.security import generate_password_hash

from app.accounts.groups import create_group, ordered_group_names
from app.accounts.legacy_hashes import UnsupportedHash, check_hash, verify_legacy_hash
from app.accounts.mfa import read_totp_secret, store_totp_secret
from app.accounts.portability import (
    ImportRowError,
    import_record,
    migrate_user_on_login,
    verify_and_upgrade_password,
)
from app.accounts.users import create_user
from app.cli import main
from app.extensions import db, frontdesk_state
from app.models import AuditEvent, FederatedIdentity, Group, User
from tests.conftest import make_app
from tests.live import ROOT, drop_database, free_port, server_env

# Published test vectors: Django's test suite (tests/auth_tests/test_hashers.py) and passlib's
# documentation; bcrypt, Werkzeug and argon2 hashes are made by those libraries here.
VECTORS = [
    ("django-pbkdf2", "lètmein",
     "pbkdf2_sha256$390000$seasalt$8xBlGd3jVgvJ+92hWPxi5ww0uuAuAnKgC45eudxro7c="),
    ("passlib-pbkdf2", "password",
     "$pbkdf2-sha256$6400$0ZrzXitFSGltTQnBWOsdAw$Y11AchqV4b0sUisdZd0Xr97KWoymNE0LNNrnEgY4H9M"),
    ("passlib-scrypt", "password",
     "$scrypt$ln=8,r=8,p=1$WKs1xljLudd6z9kbY0wpJQ$yCR4iDZYDKv+iEJj6yHY0lv/epnfB6f/w1EbXrsJOuQ"),
    ("django-scrypt", "lètmein",
     "scrypt$16384$seasalt$8$1$Qj3+9PPyRjSJIebHnG81TMjsqtaIGxNQG/aEB/NYafTJ7tibgfYz71m0ldQESk"
     "XFRkdVCBhhY8mx7rQwite/Pw=="),
    ("django-argon2i", "secret",
     "argon2$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q"),
]


def generated_hashes() -> list[tuple[str, str, str]]:
    return [
        ("bcrypt", "bcrypt-pass", bcrypt.hashpw(b"bcrypt-pass", bcrypt.gensalt(4)).decode()),
        ("bcrypt-2y", "bcrypt-pass",
         bcrypt.hashpw(b"bcrypt-pass", bcrypt.gensalt(4)).decode().replace("$2b$", "$2y$")),
        ("werkzeug-scrypt", "wz-pass", generate_password_hash("wz-pass", method="scrypt")),
        ("werkzeug-pbkdf2", "wz-pass2",
         generate_password_hash("wz-pass2", method="pbkdf2:sha256:20000")),
        ("argon2id-weaker", "old-argon",
         PasswordHasher(time_cost=1, memory_cost=8192, parallelism=2).hash("old-argon")),
    ]


ALL_HASHES = VECTORS + generated_hashes()


@pytest.mark.parametrize("name, password, hash_", ALL_HASHES, ids=[v[0] for v in ALL_HASHES])
def test_legacy_hash_verifies(name, password, hash_):
    check_hash(hash_)
    assert verify_legacy_hash(hash_, password)
    assert not verify_legacy_hash(hash_, password + "x")
    assert not verify_legacy_hash(hash_, "")


def test_bcrypt_over_72_bytes_matches_what_the_legacy_system_stored():
    long = "p" * 100
    hash_ = bcrypt.hashpw(long.encode()[:72], bcrypt.gensalt(4)).decode()
    assert verify_legacy_hash(hash_, long)


@pytest.mark.parametrize("hash_", [
    "", "plain-text-password", "md5$seasalt$3f86d0d3d465b7b458c231bf3555c0e3",
    "$2b$31$" + "a" * 53,  # cost beyond the limit
    "$scrypt$ln=30,r=8,p=1$WKs1xljLudd6z9kbY0wpJQ$yCR4iDZYDKv+iEJj6yHY0lv/epnfB6f/w1EbXrsJOuQ",
    "pbkdf2_sha256$999999999$salt$abc=",
    "$argon2id$v=19$m=4194304,t=3,p=4$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q",
    "scrypt$16384$seasalt$8$1$not base64!",
    "pbkdf2:sha256:1000$salt$nothex",
    "ünicode$hash",
])
def test_unusable_hashes_are_refused(hash_):
    with pytest.raises(UnsupportedHash):
        check_hash(hash_)
    assert not verify_legacy_hash(hash_, "anything")


@pytest.mark.parametrize("name, password, hash_", ALL_HASHES, ids=[v[0] for v in ALL_HASHES])
def test_login_upgrades_to_argon2id(app, name, password, hash_):
    with app.app_context():
        settings = frontdesk_state().settings
        user = create_user(settings, email=f"{name}@example.com", password=None,
                           password_hash=hash_)
        db.session.commit()
        assert not verify_and_upgrade_password(settings, user, "wrong")
        assert user.password_hash == hash_
        assert verify_and_upgrade_password(settings, user, password)
        db.session.commit()
        upgraded = db.session.get(User, user.id).password_hash
        assert upgraded.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
        assert verify_and_upgrade_password(settings, user, password)
        assert db.session.get(User, user.id).password_hash == upgraded  # no second rehash
        types = db.session.scalars(db.select(AuditEvent.type)).all()
        assert types == ["user.password_rehashed"]


def test_no_hash_never_verifies(app):
    with app.app_context():
        settings = frontdesk_state().settings
        user = create_user(settings, email="nohash@example.com", password=None)
        assert not verify_and_upgrade_password(settings, user, "")
        assert not verify_and_upgrade_password(settings, None, "x")


def migration(event):
    if event["password"] == "legacy-pass":
        return {"attributes": {"name": "Legacy Person"}, "email_verified": True}
    return {}


def test_user_migration_creates_the_user_with_the_entered_password(tmp_path, postgres_schema,
                                                                   apps):
    app = apps(tmp_path, trigger_user_migration="tests.test_portability:migration")
    with app.app_context():
        settings = frontdesk_state().settings
        assert migrate_user_on_login(settings, "new@example.com", "wrong") is None
        user = migrate_user_on_login(settings, "New@Example.com", "legacy-pass", "client-1")
        db.session.commit()
        assert user.email == "New@example.com" and user.email_verified
        assert user.attributes == {"name": "Legacy Person"}
        assert user.password_hash.startswith("$argon2id$")
        assert verify_and_upgrade_password(settings, user, "legacy-pass")
        assert migrate_user_on_login(settings, "new@example.com", "legacy-pass") is None
        assert migrate_user_on_login(settings, "not an address", "legacy-pass") is None


# --- import records -------------------------------------------------------------------------

ATTRS = json.dumps([{"name": "plan", "type": "string", "enum": ["free", "pro"]},
                    {"name": "seats", "type": "number", "min": 1},
                    {"name": "org", "type": "string", "mutable": False}])


@pytest.fixture
def apps(postgres_schema):
    """make_app(...) whose engines are disposed after the test."""
    made = []

    def build(path, **settings):
        made.append(make_app(path, postgres_schema, **settings))
        return made[-1]

    yield build
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def pool_app(tmp_path, apps):
    return apps(tmp_path, custom_attributes=ATTRS)


def test_import_record_is_idempotent_by_email(pool_app):
    record = {"email": "Ann@Example.com", "password_hash": VECTORS[0][2],
              "attributes": {"plan": "pro", "seats": "3"}, "groups": ["staff"],
              "email_verified": True}
    with pool_app.app_context():
        settings = frontdesk_state().settings
        assert import_record(settings, record) == "created"
        db.session.commit()
        assert import_record(settings, record) == "skipped"
        assert import_record(settings, {**record, "email": "ann@EXAMPLE.com"}) == "skipped"
        changed = {**record, "attributes": {"plan": "free"}, "groups": []}
        assert import_record(settings, changed, update=True) == "updated"
        db.session.commit()
        user = User.find_by_email("ann@example.com")
        assert user.attributes == {"plan": "free", "seats": 3}
        assert user.groups == []
        assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 1


@pytest.mark.parametrize("record, message", [
    ({"email": "not-an-email"}, "invalid e-mail"),
    ({"email": "a@example.com", "password_hash": "md5$x$y"}, "unsupported password hash"),
    ({"email": "a@example.com", "attributes": {"plan": "gold"}}, "plan"),
    ({"email": "a@example.com", "attributes": {"colour": "red"}}, "unknown attribute"),
    ({"email": "a@example.com", "status": "locked"}, "status"),
    ({"email": "a@example.com", "id": "not-a-uuid"}, "UUID"),
    ({"email": "a@example.com", "groups": "staff"}, "list"),
    ({"email": "a@example.com", "groups": ["bad name!"]}, "group name"),
    ({"email": "a@example.com", "email_verified": "maybe"}, "true or false"),
    ({"email": "a@example.com", "totp_secret": "short"}, "TOTP"),
    ({"email": "a@example.com", "federated_identities": [{"provider": "google"}]}, "subject"),
    ({"email": "a@example.com", "surprise": 1}, "unknown fields"),
    ({"kind": "robot"}, "kind"),
    ({"email": "a\u0000@example.com"}, "NUL"),
    ("just a string", "JSON object"),
])
def test_import_record_errors(pool_app, record, message):
    with pool_app.app_context(), pytest.raises(ValueError, match=message):
        import_record(frontdesk_state().settings, record)


def test_import_keeps_ids_and_refuses_taken_ones(pool_app):
    with pool_app.app_context():
        settings = frontdesk_state().settings
        user_id = "7c0f2a3e-5a7e-4e59-9f33-0f1f7d6f0a11"
        import_record(settings, {"email": "a@example.com", "id": user_id})
        db.session.commit()
        assert db.session.get(User, user_id).email == "a@example.com"
        with pytest.raises(ImportRowError, match="another user"):
            import_record(settings, {"email": "b@example.com", "id": user_id})


# --- CLI round trip -------------------------------------------------------------------------


def _seed(app) -> dict[str, str]:
    """Users with every kind of hash; returns email -> password."""
    passwords = {}
    with app.app_context():
        settings = frontdesk_state().settings
        create_group("admins", "Operators", 1)
        create_group("staff", "", 5)
        alice = create_user(settings, email="alice@example.com", password="alice-password-1",
                            verified=True, groups=["staff", "admins"],
                            attributes={"name": "Alice", "plan": "pro", "seats": 4,
                                        "org": "acme"})
        store_totp_secret(settings, alice, pyotp.random_base32(), enabled=True)
        db.session.flush()
        db.session.add(FederatedIdentity(provider="google", subject="g-123", user_id=alice.id,
                                         email="alice@gmail.example"))
        passwords["alice@example.com"] = "alice-password-1"
        for name, password, hash_ in ALL_HASHES:
            email = f"{name}@example.com"
            create_user(settings, email=email, password=None, password_hash=hash_)
            passwords[email] = password
        disabled = create_user(settings, email="off@example.com", password="off-password-1")
        disabled.status = "disabled"
        passwords["off@example.com"] = "off-password-1"
        db.session.commit()
    return passwords


def test_export_import_round_trip_into_an_empty_database(tmp_path, apps):
    source = apps(tmp_path / "a", custom_attributes=ATTRS)
    passwords = _seed(source)
    export_path = tmp_path / "users.jsonl"
    with source.app_context():
        before = {u.email: (u.id, u.attributes, [g.name for g in u.groups], u.status,
                            read_totp_secret(frontdesk_state().settings, u))
                  for u in db.session.scalars(db.select(User))}
    result = source.test_cli_runner().invoke(main, ["users", "export", "-o", str(export_path)])
    assert result.exit_code == 0, result.output
    assert oct(export_path.stat().st_mode & 0o777) == "0o600"
    lines = [json.loads(line) for line in export_path.read_text().splitlines()]
    assert [r["kind"] for r in lines[:2]] == ["group", "group"]
    assert len(lines) == 2 + len(passwords)
    with source.app_context():
        db.session.remove()
        db.engine.dispose()

    target = apps(tmp_path / "b", custom_attributes=ATTRS,
                  secret_key="another-secret-key-" + "q" * 32)
    with target.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 0
    runner = target.test_cli_runner()
    result = runner.invoke(main, ["users", "import", str(export_path), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["created"] == len(lines) and summary["failed"] == 0

    with target.app_context():
        settings = frontdesk_state().settings
        after = {u.email: (u.id, u.attributes, [g.name for g in u.groups], u.status,
                           read_totp_secret(settings, u))
                 for u in db.session.scalars(db.select(User))}
        assert after == before
        groups = {g.name: (g.description, g.precedence)
                  for g in db.session.scalars(db.select(Group))}
        assert groups == {"admins": ("Operators", 1), "staff": ("", 5)}
        link = db.session.scalar(db.select(FederatedIdentity))
        assert (link.provider, link.subject, link.user.email if hasattr(link, "user") else
                db.session.get(User, link.user_id).email) == ("google", "g-123",
                                                              "alice@example.com")
        for email, password in passwords.items():
            user = User.find_by_email(email)
            assert verify_and_upgrade_password(settings, user, password), email
            assert user.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$"), email
        db.session.commit()

    again = runner.invoke(main, ["users", "import", str(export_path), "--json"])
    assert again.exit_code == 0
    assert json.loads(again.stdout.strip().splitlines()[-1])["skipped"] == len(lines)


def test_csv_import_reports_bad_rows_and_goes_on(pool_app, tmp_path):
    path = tmp_path / "legacy.csv"
    path.write_text(
        "email,password_hash,email_verified,groups,plan,seats\n"
        f"one@example.com,{VECTORS[0][2]},true,staff;ops,pro,2\n"
        "two@example.com,md5$nope$nope,false,,,\n"
        "not-an-email,,,,,\n"
        "three@example.com,,no,ops,free,0\n"
        "four@example.com,,,staff,,\n", encoding="utf-8")
    result = pool_app.test_cli_runner().invoke(main, ["users", "import", str(path), "--json"])
    assert result.exit_code == 1
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert (summary["created"], summary["failed"]) == (2, 3)
    assert [(e["line"], e["email"]) for e in summary["errors"]] == [
        (3, "two@example.com"), (4, "not-an-email"), (5, "three@example.com")]
    assert "seats" in summary["errors"][2]["error"]
    assert "line 3:" in result.stderr
    with pool_app.app_context():
        one = User.find_by_email("one@example.com")
        assert one.email_verified and ordered_group_names(one) == ["ops", "staff"]
        assert one.attributes == {"plan": "pro", "seats": 2}
        assert User.find_by_email("two@example.com") is None
        assert verify_and_upgrade_password(frontdesk_state().settings, one, "lètmein")


def test_jsonl_import_reports_invalid_lines(pool_app, tmp_path):
    path = tmp_path / "users.jsonl"
    path.write_text('{"email": "ok@example.com"}\n\nnot json\n{"email": "ok@example.com"}\n')
    result = pool_app.test_cli_runner().invoke(main, ["users", "import", str(path)])
    assert result.exit_code == 1
    assert "created 1, updated 0, skipped 1, failed 1" in result.stdout
    assert "line 3: not valid JSON" in result.stderr


def test_export_to_stdout_without_mfa(pool_app):
    with pool_app.app_context():
        settings = frontdesk_state().settings
        user = create_user(settings, email="m@example.com", password="m-password-1")
        store_totp_secret(settings, user, pyotp.random_base32(), enabled=True)
        db.session.commit()
    result = pool_app.test_cli_runner().invoke(main, ["users", "export", "--no-mfa"])
    assert result.exit_code == 0
    record = json.loads(result.stdout.strip())
    assert record["email"] == "m@example.com" and "totp_secret" not in record
    assert record["password_hash"].startswith("$argon2id$")


def test_groups_cli(pool_app):
    runner = pool_app.test_cli_runner()
    with pool_app.app_context():
        create_user(frontdesk_state().settings, email="g@example.com", password=None)
        db.session.commit()
    assert runner.invoke(main, ["groups", "create", "ops", "--precedence", "2"]).exit_code == 0
    assert runner.invoke(main, ["groups", "create", "ops"]).exit_code == 1
    assert runner.invoke(main, ["groups", "create", "bad name"]).exit_code == 1
    assert runner.invoke(main, ["groups", "add-member", "ops", "G@example.com"]).exit_code == 0
    assert runner.invoke(main, ["groups", "add-member", "nope", "g@example.com"]).exit_code == 1
    assert runner.invoke(main, ["groups", "update", "ops", "--rename", "operators",
                                "--description", "On call"]).exit_code == 0
    listed = json.loads(runner.invoke(main, ["groups", "list", "--json"]).stdout)
    assert listed == {"groups": [{"name": "operators", "description": "On call",
                                  "precedence": 2, "member_count": 1}]}
    assert runner.invoke(main, ["groups", "remove-member", "operators",
                                "g@example.com"]).exit_code == 0
    assert runner.invoke(main, ["groups", "delete", "operators"]).exit_code == 0
    assert json.loads(runner.invoke(main, ["groups", "list", "--json"]).stdout) == {
        "groups": []}


def test_import_shows_a_progress_bar_on_a_terminal(tmp_path):
    """stderr is a real pseudo-terminal here: click draws its bar there, stdout stays clean."""
    instance = tmp_path / "instance"
    instance.mkdir()
    env = server_env(instance, free_port())
    try:
        subprocess.run([sys.executable, "-m", "app.cli", "db", "upgrade"], env=env, cwd=ROOT,
                       check=True, capture_output=True, timeout=120)
        path = tmp_path / "users.jsonl"
        path.write_text("".join(json.dumps({"email": f"u{i}@example.com"}) + "\n"
                                for i in range(40)))
        controller, terminal = pty.openpty()
        try:
            done = subprocess.run([sys.executable, "-m", "app.cli", "users", "import",
                                   str(path)], env=env, cwd=ROOT, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=terminal, timeout=120)
        finally:
            os.close(terminal)
        drawn = _read_all(controller)
    finally:
        if "FRONTDESK_DATABASE_URL" in env:
            drop_database(env["FRONTDESK_DATABASE_URL"])
    assert done.returncode == 0
    assert done.stdout.decode().strip() == "created 40, updated 0, skipped 0, failed 0"
    assert "Importing" in drawn and "100%" in drawn


def _read_all(fd: int) -> str:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO once the other side is closed and drained
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks).decode(errors="replace")
