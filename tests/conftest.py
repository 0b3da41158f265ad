"""Shared fixtures: a fresh app and database per test, on the backends CI selects.

Mode "embedded" (default): SQLite file per test + the embedded store.
Mode "production": FRONTDESK_TEST_DATABASE_URL (PostgreSQL) + FRONTDESK_TEST_REDIS_URL.
A configured service that cannot be reached fails the run; it is never skipped.
"""

from __future__ import annotations

import os

import pytest
import redis as redis_lib
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import create_app
from app.accounts.users import create_user
from app.extensions import db, frontdesk_state
from app.keys import ensure_signing_keys
from app.oauth.clients import create_client

BASE_TEST_DATABASE_URL = os.environ.get("FRONTDESK_TEST_DATABASE_URL", "")
# Replaced at session start by a database of this run's own (see _use_private_database).
TEST_DATABASE_URL = BASE_TEST_DATABASE_URL
TEST_REDIS_URL = os.environ.get("FRONTDESK_TEST_REDIS_URL", "")
# Store tests always run against both backends, so Redis is needed in every mode.
STORE_REDIS_URL = TEST_REDIS_URL or "redis://127.0.0.1:6379/15"
PASSWORD = "correct horse battery staple"


def _require_services() -> None:
    if TEST_DATABASE_URL:
        engine = create_engine(TEST_DATABASE_URL)
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001
            pytest.exit(f"PostgreSQL at {TEST_DATABASE_URL} unreachable: {exc}", returncode=3)
        finally:
            engine.dispose()
    try:
        redis_lib.Redis.from_url(STORE_REDIS_URL, socket_connect_timeout=2).ping()
    except redis_lib.exceptions.RedisError as exc:
        pytest.exit(f"Redis at {STORE_REDIS_URL} unreachable: {exc}", returncode=3)


def pytest_sessionstart(session):
    _require_services()
    _use_private_database()


def pytest_sessionfinish(session, exitstatus):
    if TEST_DATABASE_URL and TEST_DATABASE_URL != BASE_TEST_DATABASE_URL:
        _drop_databases([make_url(TEST_DATABASE_URL).database])


def _use_private_database() -> None:
    """Each pytest run works in a database of its own beside `test` (dropped at the end), so
    runs started at the same time on one PostgreSQL never truncate each other's tables."""
    global TEST_DATABASE_URL
    if not TEST_DATABASE_URL:
        return
    engine = create_engine(BASE_TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        names = conn.execute(text(
            "SELECT datname FROM pg_database WHERE datname LIKE 'fdtest\\_%'")).scalars()
        _drop_databases([n for n in names if not _process_alive(n)], conn)
        name = f"fdtest_{os.getpid()}"
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    TEST_DATABASE_URL = make_url(BASE_TEST_DATABASE_URL).set(database=name).render_as_string(
        hide_password=False)


def _process_alive(database_name: str) -> bool:
    """Databases of runs whose process is gone are left-overs (a run that was killed)."""
    pid = database_name.rsplit("_", 1)[-1]
    if not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return int(pid) != os.getpid()  # our own pid on an old database: a reused pid


def _drop_databases(names: list[str], conn=None) -> None:
    if conn is None:
        engine = create_engine(BASE_TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as own:
            _drop_databases(names, own)
        engine.dispose()
        return
    for name in names:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _reset_postgres_schema() -> None:
    engine = create_engine(TEST_DATABASE_URL)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def postgres_schema():
    """Create the tables once per run; each test truncates them."""
    if not TEST_DATABASE_URL:
        return None
    _reset_postgres_schema()
    import app.models  # noqa: F401
    from app.extensions import Base

    engine = create_engine(TEST_DATABASE_URL)
    Base.metadata.create_all(engine)
    engine.dispose()
    return TEST_DATABASE_URL


def base_config(tmp_path, **overrides) -> dict:
    """Settings overrides for a test app; overrides win."""
    config = {
        "instance_path": str(tmp_path / "instance"),
        "secret_key": "test-secret-key-" + "x" * 32,
        "issuer": "http://127.0.0.1:5000",
        "mail_backend": "file",
        "mail_outbox": str(tmp_path / "outbox"),
        "redis_url": TEST_REDIS_URL,
        "redis_prefix": f"fdtest:{os.getpid()}:",
    }
    if TEST_DATABASE_URL:
        config["database_url"] = TEST_DATABASE_URL
    config.update(overrides)
    return config


def _truncate_all() -> None:
    """Empty every table and restart the id sequences. DELETE, children first: on these
    tiny tables it takes milliseconds where TRUNCATE takes a quarter of a second."""
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.execute(text(
        "SELECT setval(s.seq, 1, false) FROM (SELECT pg_get_serial_sequence(c.table_name, "
        "c.column_name) AS seq FROM information_schema.columns c WHERE c.table_schema = "
        "'public' AND c.column_default LIKE 'nextval%') s"))
    db.session.commit()


def _flush_redis(prefix: str) -> None:
    client = redis_lib.Redis.from_url(TEST_REDIS_URL)
    keys = list(client.scan_iter(match=prefix + "*", count=1000))
    if keys:
        client.delete(*keys)


_SIGNING_KEY_ROWS: dict[str, list[dict]] = {}  # secret key -> rows, generated once per run


def install_signing_keys(secret_key: str) -> None:
    """Give a fresh test database its first signing keys. Generating an RSA key costs about
    half a second, so the keys are made once per secret key and copied into each database."""
    from app.models import SigningKey

    rows = _SIGNING_KEY_ROWS.get(secret_key)
    if rows is None:
        ensure_signing_keys(secret_key)
        columns = SigningKey.__table__.columns
        _SIGNING_KEY_ROWS[secret_key] = [
            {c.key: getattr(key, c.key) for c in columns}
            for key in db.session.scalars(db.select(SigningKey))]
        return
    db.session.add_all([SigningKey(**row) for row in rows])
    db.session.commit()


def make_app(tmp_path, postgres_schema=None, **overrides):
    """A ready app: schema present and empty, keys created."""
    config = base_config(tmp_path, **overrides)
    app = create_app(config)
    app.config["TESTING"] = True
    with app.app_context():
        if TEST_DATABASE_URL and config.get("database_url") == TEST_DATABASE_URL:
            _truncate_all()
        else:
            db.create_all()
        if config.get("redis_url"):
            _flush_redis(config["redis_prefix"])
        install_signing_keys(config["secret_key"])
    return app


@pytest.fixture
def app(tmp_path, postgres_schema):
    app = make_app(tmp_path, postgres_schema)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def settings(app):
    return frontdesk_state(app).settings


@pytest.fixture
def user(app):
    """A verified user with password PASSWORD; returns a plain dict."""
    with app.app_context():
        u = create_user(frontdesk_state(app).settings, email="alice@example.com",
                        password=PASSWORD, verified=True, attributes={"name": "Alice Example"})
        db.session.commit()
        return {"id": u.id, "email": u.email, "password": PASSWORD}


@pytest.fixture
def oauth_client(app):
    """A confidential first-party client; returns id, secret and redirect URI."""
    with app.app_context():
        new = create_client(name="Test App", redirect_uris=["http://127.0.0.1:9999/cb"],
                            post_logout_redirect_uris=["http://127.0.0.1:9999/bye"],
                            grant_types=["authorization_code", "refresh_token",
                                         "client_credentials"],
                            is_first_party=True)
        db.session.commit()
        return {"client_id": new.client.client_id, "client_secret": new.client_secret,
                "redirect_uri": "http://127.0.0.1:9999/cb"}


class Outbox:
    """The messages the file mail backend wrote, oldest first."""

    def __init__(self, folder) -> None:
        from pathlib import Path

        self.folder = Path(folder)

    def messages(self) -> list:
        from email import policy
        from email.parser import BytesParser

        files = sorted(self.folder.glob("*.eml")) if self.folder.is_dir() else []
        return [BytesParser(policy=policy.default).parsebytes(f.read_bytes()) for f in files]

    def __len__(self) -> int:
        return len(self.messages())

    def last(self, to: str | None = None):
        found = [m for m in self.messages() if to is None or m["To"] == to]
        assert found, f"no mail{' to ' + to if to else ''} in {self.folder}"
        return found[-1]

    @staticmethod
    def text(message) -> str:
        return message.get_body(("plain",)).get_content()

    @staticmethod
    def html(message) -> str:
        return message.get_body(("html",)).get_content()


@pytest.fixture
def outbox(app):
    """Mail sent by the app under test (file backend, settings.mail_outbox)."""
    return Outbox(frontdesk_state(app).settings.mail_outbox)
