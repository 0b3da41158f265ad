"""Frontdesk: a self-hosted OAuth 2.0 / OpenID Connect provider with a hosted login UI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event

from app.config import ConfigError, Settings, load_settings
from app.extensions import FrontdeskState, babel, csrf, db
from app.proxies import install_trusted_proxies, parse_networks

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None,
               settings: Settings | None = None, *, migrations: bool = True) -> Flask:
    """Application factory. `test_config` entries override Settings fields by name.

    `migrations=False` (the WSGI entry point) leaves out Flask-Migrate: serving never
    migrates, and Alembic with Mako and Pygments costs ~12 MiB in every worker (measured).
    """
    if settings is None:
        settings = load_settings(**(test_config or {}))
    _require_checkout(ROOT)
    app = Flask(__name__, instance_path=settings.instance_path,
                template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"),
                static_url_path="/static")
    _configure_flask(app, settings)
    _init_extensions(app, settings)
    if migrations:
        _init_migrations(app)
    _register_features(app)
    install_trusted_proxies(app, parse_networks(settings.csv("trusted_proxies")))  # outermost
    return app


def _require_checkout(root: Path) -> None:
    """Templates, static files, themes and migrations live beside the package, not in it:
    Frontdesk runs from its checkout (`pip install -e .`). A plain `pip install .` would
    otherwise start and answer 500 on every page."""
    missing = [name for name in ("templates", "static", "migrations")
               if not (root / name).is_dir()]
    if missing:
        raise ConfigError(f"{', '.join(missing)} not found in {root}: run Frontdesk from its "
                          "checkout, installed with `pip install -e .`")


def _configure_flask(app: Flask, settings: Settings) -> None:
    Path(settings.instance_path).mkdir(parents=True, exist_ok=True)
    engine_options: dict[str, Any] = {}  # idle connections are pinged: app.dbping
    if settings.database_url.startswith("postgresql"):
        engine_options.update(pool_size=5, max_overflow=10, pool_recycle=1800,
                              connect_args={"connect_timeout": 3})
    else:
        engine_options["connect_args"] = {"timeout": 15}
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        SQLALCHEMY_ENGINE_OPTIONS=engine_options,
        SESSION_COOKIE_NAME=settings.session_cookie_name,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.is_https,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the server-side session
        MAX_CONTENT_LENGTH=1024 * 1024,
        JSON_SORT_KEYS=False,
        PREFERRED_URL_SCHEME="https" if settings.is_https else "http",
    )


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _init_extensions(app: Flask, settings: Settings) -> None:
    from app import models  # noqa: F401  (registers the tables)
    from app.dbping import install_idle_ping
    from app.hosted.i18n import select_locale
    from app.keys import KeyRing
    from app.logs import install_log_redaction
    from app.readonly_db import attach_autocommit_engine
    from app.sessions import StoreSessionInterface
    from app.store import create_store

    db.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    app.session_interface = StoreSessionInterface()
    install_log_redaction(app)
    with app.app_context():
        sqlite = db.engine.dialect.name == "sqlite"
        if sqlite:
            event.listen(db.engine, "connect", _sqlite_pragmas)
        install_idle_ping(db.engine)
        attach_autocommit_engine(
            db.engine, app.config["SQLALCHEMY_ENGINE_OPTIONS"].get("connect_args"),
            _sqlite_pragmas if sqlite else None)
        store = create_store(settings.redis_url, settings.redis_prefix, db.engine)
    app.extensions["frontdesk"] = FrontdeskState(
        settings=settings, store=store, keyring=KeyRing(settings.secret_key))


def _init_migrations(app: Flask) -> None:
    """`frontdesk db …` and app.extensions["migrate"] (imports Alembic)."""
    from flask_migrate import Migrate

    Migrate(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)


def _register_features(app: Flask) -> None:
    """Each feature package exposes init_app(app): blueprints, hooks, handlers."""
    from app import admin, demo, errors, federation, health, hosted, oauth, userpool_api

    for feature in (errors, health, oauth, hosted, federation, admin, demo, userpool_api):
        feature.init_app(app)
