"""The `frontdesk` CLI contract (DESIGN.md): --json prints exactly one JSON object and
nothing else on stdout; wrong input is one line on stderr, exit code 1, nothing written."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from app.accounts.mfa import read_totp_secret
from app.cli import main
from app.extensions import db, frontdesk_state
from app.models import Client, Consent, Group, RefreshToken, SigningKey, User
from app.models._types import utcnow
from app.oauth.tokens import CUT_PREFIX
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL
from tests.live import drop_database, free_port, fresh_database

REDIRECT = "http://127.0.0.1:9999/cb"
TOTP = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def run(app, *args):
    """Invoke `frontdesk ARGS` against the test app; stdout and stderr kept apart."""
    return app.test_cli_runner().invoke(main, list(args))


def one_json(result) -> dict:
    """The command succeeded and stdout is exactly one JSON object."""
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    data = json.loads(result.stdout)  # fails on anything besides one JSON document
    assert isinstance(data, dict)
    assert result.stdout.count("\n") == 1
    return data


def one_line_error(result, fragment: str) -> str:
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    assert fragment.lower() in lines[0].lower()
    return lines[0]


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(model))


def create_client(app, *extra) -> dict:
    return one_json(run(app, "clients", "create", "--name", "x", "--redirect-uri", REDIRECT,
                        "--json", *extra))


def create_user(app, email="a@example.com", *extra) -> dict:
    return one_json(run(app, "users", "create", "--email", email, "--password",
                        "a long password", "--verified", "--json", *extra))


# --- clients ---------------------------------------------------------------------------


def test_clients_create_prints_the_secret_once_and_stores_a_hash(app):
    data = create_client(app)
    assert data["redirect_uris"] == [REDIRECT]
    assert data["grant_types"] == ["authorization_code", "refresh_token"]
    assert data["token_endpoint_auth_method"] == "client_secret_basic"
    assert data["public"] is False and data["first_party"] is False
    secret = data["client_secret"]
    assert len(secret) >= 32
    with app.app_context():
        client = db.session.get(Client, data["client_id"])
        assert client.client_secret_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert client.secret_matches(secret) and not client.secret_matches(secret + "x")
    shown = one_json(run(app, "clients", "show", data["client_id"], "--json"))
    listed = one_json(run(app, "clients", "list", "--json"))
    assert "client_secret" not in shown and "client_secret_hash" not in shown
    assert secret not in json.dumps(listed)


def test_clients_create_public(app):
    data = create_client(app, "--public")
    assert data["client_secret"] is None
    assert data["public"] is True
    assert data["token_endpoint_auth_method"] == "none"


def test_clients_create_with_every_option(app):
    data = one_json(run(
        app, "clients", "create", "--name", "Config as code", "--redirect-uri", REDIRECT,
        "--redirect-uri", "com.example.app:/callback",
        "--post-logout-redirect-uri", "http://127.0.0.1:9999/bye",
        "--grant-type", "authorization_code", "--grant-type", "client_credentials",
        "--scope", "openid", "--scope", "email", "--auth-method", "client_secret_post",
        "--first-party", "--client-id", "fixed-id", "--client-secret", "fixed-secret-" + "s" * 32,
        "--json"))
    assert data["client_id"] == "fixed-id"
    assert data["client_secret"] == "fixed-secret-" + "s" * 32
    assert data["redirect_uris"] == [REDIRECT, "com.example.app:/callback"]
    assert data["post_logout_redirect_uris"] == ["http://127.0.0.1:9999/bye"]
    assert data["grant_types"] == ["authorization_code", "client_credentials"]
    assert data["scopes"] == ["openid", "email"]
    assert data["token_endpoint_auth_method"] == "client_secret_post"
    assert data["first_party"] is True


def test_clients_create_text_output(app):
    result = run(app, "clients", "create", "--name", "x", "--redirect-uri", REDIRECT)
    assert result.exit_code == 0
    assert result.stdout.startswith("client_id:")
    assert "client_secret:" in result.stdout


CLIENT_ERRORS = [
    (["--redirect-uri", "http://127.0.0.1:9999/cb#frag"], "fragment"),
    (["--redirect-uri", "/relative/cb"], "invalid redirect uri"),
    (["--redirect-uri", "http://127.0.0.1:*/cb"], "wildcard"),
    (["--redirect-uri", "javascript:alert(1)"], "scheme"),
    ([], "at least one redirect uri"),
    (["--redirect-uri", REDIRECT, "--grant-type", "implicit"], "unknown grant type"),
    (["--redirect-uri", REDIRECT, "--grant-type", "client_credentials", "--public"],
     "client_credentials"),
    (["--redirect-uri", REDIRECT, "--jwks", "{not json"], "not valid JSON"),
    (["--redirect-uri", REDIRECT, "--public", "--auth-method", "client_secret_basic"],
     "public client"),
]


@pytest.mark.parametrize(("args", "message"), CLIENT_ERRORS)
def test_clients_create_rejects_bad_input(app, args, message):
    before = count(app, Client)
    one_line_error(run(app, "clients", "create", "--name", "x", *args, "--json"), message)
    assert count(app, Client) == before


def test_clients_create_rejects_a_duplicate_id(app):
    create_client(app, "--client-id", "taken")
    one_line_error(run(app, "clients", "create", "--name", "y", "--redirect-uri", REDIRECT,
                       "--client-id", "taken", "--json"), "already exists")
    assert count(app, Client) == 1


@pytest.mark.parametrize("command", ["show", "delete"])
def test_unknown_client(app, command):
    one_line_error(run(app, "clients", command, "no-such-client", "--json"), "no client")


def test_clients_list(app):
    ids = {create_client(app)["client_id"] for _ in range(2)}
    data = one_json(run(app, "clients", "list", "--json"))
    assert {c["client_id"] for c in data["clients"]} == ids
    text = run(app, "clients", "list").stdout
    assert all(i in text for i in ids)


def test_clients_delete_removes_its_tokens_and_consents(app, user):
    data = create_client(app)
    with app.app_context():
        db.session.add(RefreshToken(token_hash="h" * 64, family_id="f", client_id=data["client_id"],
                                    user_id=user["id"], expires_at=utcnow() + timedelta(days=1)))
        db.session.add(Consent(user_id=user["id"], client_id=data["client_id"], scope="openid"))
        db.session.commit()
    assert one_json(run(app, "clients", "delete", data["client_id"], "--json")) == {
        "deleted": data["client_id"]}
    assert count(app, Client) == 0
    assert count(app, RefreshToken) == 0
    assert count(app, Consent) == 0
    assert count(app, User) == 1


# --- users -----------------------------------------------------------------------------


def test_users_create(app):
    data = create_user(app, "Ann@Example.COM", "--group", "admins", "--group", "staff")
    assert data["email"] == "Ann@example.com"  # domain lower-cased, local part kept
    assert data["email_verified"] is True
    assert data["status"] == "enabled"
    assert sorted(data["groups"]) == ["admins", "staff"]
    assert data["mfa_enabled"] is False
    assert uuid.UUID(data["id"])
    with app.app_context():
        stored = db.session.get(User, data["id"])
        assert stored.password_hash.startswith("$argon2id$")
        assert "a long password" not in stored.password_hash


def test_users_create_with_totp_secret(app):
    data = create_user(app, "mfa@example.com", "--totp-secret", TOTP)
    assert data["mfa_enabled"] is True
    with app.app_context():
        stored = db.session.get(User, data["id"])
        assert TOTP not in stored.totp_secret  # sealed at rest
        assert read_totp_secret(frontdesk_state(app).settings, stored) == TOTP


USER_ERRORS = [
    (["--email", "not-an-email"], "invalid e-mail"),
    (["--email", "b@example.com", "--totp-secret", "not base32!"], "base32"),
    (["--email", "b@example.com", "--totp-secret", "JBSWY3DP"], "128 bits"),
]


@pytest.mark.parametrize(("args", "message"), USER_ERRORS)
def test_users_create_rejects_bad_input(app, args, message):
    one_line_error(run(app, "users", "create", "--password", "a long password",
                       "--group", "new-group", *args, "--json"), message)
    assert count(app, User) == 0
    assert count(app, Group) == 0  # nothing half-written


def test_users_create_rejects_a_duplicate_email_in_any_case(app):
    create_user(app, "a@example.com")
    one_line_error(run(app, "users", "create", "--email", "A@EXAMPLE.com", "--password",
                       "another password", "--json"), "already exists")
    assert count(app, User) == 1


@pytest.mark.parametrize("command", ["show", "disable", "enable", "delete"])
def test_unknown_user(app, command):
    one_line_error(run(app, "users", command, "nobody@example.com", "--json"), "no user")


@pytest.mark.parametrize("email", ["nobody@example.com", "not an address"])
def test_group_member_commands_refuse_an_unknown_user(app, email):
    run(app, "groups", "create", "staff")
    for command in ("add-member", "remove-member"):
        one_line_error(run(app, "groups", command, "staff", email),
                       "no user" if "@" in email else "invalid e-mail")


def test_users_list_and_show(app):
    one, two = create_user(app, "one@example.com"), create_user(app, "two@example.com")
    data = one_json(run(app, "users", "list", "--json"))
    assert [u["email"] for u in data["users"]] == [one["email"], two["email"]]
    shown = one_json(run(app, "users", "show", "TWO@example.com", "--json"))
    assert shown["id"] == two["id"]
    assert "password_hash" not in shown and "totp_secret" not in shown


def test_users_disable_ends_sessions_and_enable(app):
    data = create_user(app)
    store = frontdesk_state(app).store
    store.set_json("sess:browser-1", {"uid": data["id"]}, 60)
    store.set_add(f"user_sessions:{data['id']}", "browser-1", 60)
    assert one_json(run(app, "users", "disable", data["email"], "--json"))["status"] == "disabled"
    assert store.get("sess:browser-1") is None
    assert store.get(CUT_PREFIX + data["id"]) is not None  # access tokens issued so far revoked
    assert one_json(run(app, "users", "enable", data["email"], "--json"))["status"] == "enabled"


def test_users_delete(app):
    data = create_user(app, "gone@example.com", "--group", "staff")
    assert one_json(run(app, "users", "delete", data["email"], "--json")) == {
        "deleted": data["email"], "id": data["id"]}
    assert frontdesk_state(app).store.get(CUT_PREFIX + data["id"]) is not None
    assert count(app, User) == 0
    assert count(app, Group) == 1  # the group stays, the membership goes
    one_line_error(run(app, "users", "show", data["email"]), "no user")


# --- keys ------------------------------------------------------------------------------


def test_keys_list_and_rotate(app):
    before = one_json(run(app, "keys", "list", "--json"))["keys"]
    assert sorted((k["alg"], k["state"]) for k in before) == [
        ("ES256", "active"), ("ES256", "next"), ("RS256", "active"), ("RS256", "next")]
    published_next = {k["kid"] for k in before if k["state"] == "next"}
    rotated = one_json(run(app, "keys", "rotate", "--json"))
    assert {k["kid"] for k in rotated["active"]} == published_next  # publish, then sign
    after = {k["kid"]: k["state"] for k in one_json(run(app, "keys", "list", "--json"))["keys"]}
    assert all(after[kid] == "active" for kid in published_next)
    assert sorted(after.values()).count("retired") == 2
    assert sorted(after.values()).count("next") == 2
    assert count(app, SigningKey) == 6


# --- one JSON object, always -----------------------------------------------------------


def test_every_command_prints_exactly_one_json_object(app):
    client = create_client(app)
    user = create_user(app)
    for args in (["clients", "list"], ["clients", "show", client["client_id"]],
                 ["users", "list"], ["users", "show", user["email"]],
                 ["users", "disable", user["email"]], ["users", "enable", user["email"]],
                 ["keys", "list"], ["keys", "rotate"], ["users", "delete", user["email"]],
                 ["clients", "delete", client["client_id"]]):
        one_json(run(app, *args, "--json"))


# --- the real console script -----------------------------------------------------------


@pytest.fixture
def shell_env(tmp_path, request):
    """Environment for `frontdesk` subprocesses on an empty instance (mode's backends)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDESK_")}
    env.update(FRONTDESK_INSTANCE_PATH=str(tmp_path / "instance"))
    if TEST_DATABASE_URL:
        url = fresh_database(f"frontdesk_cli_{uuid.uuid4().hex[:12]}")
        request.addfinalizer(lambda: drop_database(url))
        env["FRONTDESK_DATABASE_URL"] = url
    if TEST_REDIS_URL:
        env.update(FRONTDESK_REDIS_URL=TEST_REDIS_URL,
                   FRONTDESK_REDIS_PREFIX=f"fdclitest:{uuid.uuid4().hex}:")
    return env


def frontdesk(env, *args) -> subprocess.CompletedProcess:
    script = Path(sys.executable).with_name("frontdesk")
    return subprocess.run([str(script), *args], env=env, cwd=env["FRONTDESK_INSTANCE_PATH"]
                          .rsplit("/", 1)[0], capture_output=True, text=True, timeout=120)


def test_demo_on_an_empty_database_prints_one_json_object(shell_env):
    first = frontdesk(shell_env, "demo", "--json")
    assert first.returncode == 0, first.stderr
    data = json.loads(first.stdout)
    assert data["email"] == "demo@example.com" and data["url"].endswith("/demo")
    assert "Running upgrade" in first.stderr  # migrations ran; their log went to stderr
    again = frontdesk(shell_env, "demo", "--json")
    assert json.loads(again.stdout)["password"] == data["password"]
    instance = Path(shell_env["FRONTDESK_INSTANCE_PATH"])
    for name in ("secret_key", "demo_password"):
        assert (instance / name).stat().st_mode & 0o777 == 0o600
    url = shell_env.get("FRONTDESK_DATABASE_URL") or f"sqlite:///{instance / 'frontdesk.db'}"
    engine = create_engine(url)
    with engine.connect() as conn:
        verified = conn.execute(text("SELECT email_verified FROM users WHERE email = :e"),
                                {"e": "demo@example.com"}).scalar_one()
        redirects = conn.execute(text("SELECT redirect_uris FROM clients WHERE client_id = "
                                      "'frontdesk-demo'")).scalar_one()
    engine.dispose()
    assert verified
    if isinstance(redirects, str):  # SQLite hands JSON columns back as text here
        redirects = json.loads(redirects)
    assert redirects == ["http://localhost:5000/demo/callback"]


def test_db_upgrade_then_create_commands(shell_env):
    upgrade = frontdesk(shell_env, "db", "upgrade")
    assert upgrade.returncode == 0, upgrade.stderr
    assert upgrade.stdout == ""
    client = frontdesk(shell_env, "clients", "create", "--name", "x", "--redirect-uri",
                       REDIRECT, "--json")
    assert json.loads(client.stdout)["client_secret"]
    user = frontdesk(shell_env, "users", "create", "--email", "a@example.com", "--password",
                     "pw with spaces", "--verified", "--json")
    assert json.loads(user.stdout)["email"] == "a@example.com"


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    """Run the `frontdesk` group in this process with its own environment."""
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "true")  # Flask's CLI sets it; restored after
    base = {k: None for k in os.environ if k.startswith("FRONTDESK_")}
    return base | {"FRONTDESK_INSTANCE_PATH": str(tmp_path / "instance")}


def test_bad_production_configuration_is_one_line(cli_env):
    result = CliRunner().invoke(main, ["users", "list"], env=cli_env | {
        "FRONTDESK_ENV": "production"})
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "Error: production needs FRONTDESK_SECRET_KEY, FRONTDESK_ISSUER, FRONTDESK_DATABASE_URL"]


def test_unreachable_database_is_one_line(cli_env):
    down = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/x"
    result = CliRunner().invoke(main, ["users", "list", "--json"], env=cli_env | {
        "FRONTDESK_DATABASE_URL": down})
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "Error: database or store unavailable (OperationalError)"]


def test_help_lists_the_commands(cli_env):
    result = CliRunner().invoke(main, ["--help"], env=cli_env)
    assert result.exit_code == 0
    for command in ("run", "db", "clients", "users", "keys", "demo"):
        assert f"  {command} " in result.stdout
    assert "--app" not in result.stdout and "--env-file" not in result.stdout
