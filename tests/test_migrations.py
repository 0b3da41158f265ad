"""`frontdesk db upgrade` builds exactly the schema the models describe, on SQLite and on
PostgreSQL (a fresh database per test, whatever the mode)."""

from __future__ import annotations

import subprocess
import sys
import uuid
import warnings

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import IntegrityError, SAWarning

from app import create_app
from app.extensions import db
from tests.conftest import TEST_DATABASE_URL, base_config
from tests.live import ROOT, drop_database, fresh_database

ADMIN_DATABASE_URL = TEST_DATABASE_URL or "postgresql+psycopg://postgres@127.0.0.1:5432/test"
EXPRESSION_INDEX = "uq_users_email_lower"
CORE_TABLES = {"users", "groups", "user_groups", "clients", "signing_keys", "refresh_tokens",
               "consents", "federated_identities", "audit_events", "store_entries",
               "store_members", "alembic_version"}


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'migrated.db'}"
    url = fresh_database(f"frontdesk_migrations_{uuid.uuid4().hex[:12]}",
                         admin_url=ADMIN_DATABASE_URL)
    request.addfinalizer(lambda: drop_database(url, ADMIN_DATABASE_URL))
    return url


@pytest.fixture
def empty_app(tmp_path, database_url):
    app = create_app(base_config(tmp_path, database_url=database_url, redis_url=""))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def cli(app, *args):
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result


def schema_differences(app) -> list:
    """Alembic autogenerate's view of what the migrated database lacks or has extra."""
    with app.app_context(), db.engine.connect() as conn:
        with warnings.catch_warnings():
            # SQLite cannot reflect an index on an expression (lower(email)); checked below.
            warnings.filterwarnings("ignore", category=SAWarning, message=(
                f"Skipped unsupported reflection of expression-based index {EXPRESSION_INDEX}"))
            warnings.filterwarnings("ignore", category=UserWarning, message=(
                "autogenerate skipping metadata-specified expression-based index "
                f"'{EXPRESSION_INDEX}'; dialect 'sqlite'"))
            context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                             "compare_server_default": True})
            return compare_metadata(context, db.metadata)


def cli_env(tmp_path, database_url: str) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "FRONTDESK_DATABASE_URL": database_url,
            "FRONTDESK_SECRET_KEY": "s" * 40, "FRONTDESK_INSTANCE_PATH": str(tmp_path / "i")}


def test_upgrade_builds_the_schema_of_the_models(empty_app):
    cli(empty_app, "db", "upgrade")
    with empty_app.app_context():
        tables = set(inspect(db.engine).get_table_names())
    assert CORE_TABLES <= tables
    assert schema_differences(empty_app) == []


def test_email_is_unique_case_insensitively(empty_app):
    cli(empty_app, "db", "upgrade")
    insert = text("INSERT INTO users (id, email, email_verified, status, attributes, "
                  "totp_enabled, recovery_code_hashes, created_at, updated_at) VALUES "
                  "(:id, :email, false, 'enabled', '{}', false, '[]', :now, :now)")
    with empty_app.app_context(), db.engine.connect() as conn:
        now = "2026-01-01 00:00:00"
        conn.execute(insert, {"id": "u1", "email": "Ann@example.com", "now": now})
        with pytest.raises(IntegrityError):
            conn.execute(insert, {"id": "u2", "email": "ann@EXAMPLE.com", "now": now})
        conn.rollback()


def test_downgrade_to_nothing_and_back(empty_app):
    cli(empty_app, "db", "upgrade")
    cli(empty_app, "db", "downgrade", "base")
    with empty_app.app_context():
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    cli(empty_app, "db", "upgrade")
    assert schema_differences(empty_app) == []


def test_upgrade_twice_is_a_no_op(empty_app):
    cli(empty_app, "db", "upgrade")
    cli(empty_app, "db", "upgrade")
    with empty_app.app_context(), db.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0005"


def test_one_head(app):
    """One line of history: a second head would make `db upgrade` refuse to run."""
    from alembic.script import ScriptDirectory

    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
        assert ScriptDirectory.from_config(config).get_heads() == ["0005"]


def test_processes_migrating_one_postgresql_database_at_once(tmp_path, request):
    """Several app processes starting together on an empty database: one migrates, the
    others wait for it and find nothing to do (advisory lock in migrations/env.py)."""
    url = fresh_database(f"frontdesk_migrate_race_{uuid.uuid4().hex[:12]}",
                         admin_url=ADMIN_DATABASE_URL)
    request.addfinalizer(lambda: drop_database(url, ADMIN_DATABASE_URL))
    runs = [subprocess.Popen([sys.executable, "-m", "app.cli", "db", "upgrade"], cwd=ROOT,
                             env=cli_env(tmp_path, url), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0005"
    engine.dispose()
