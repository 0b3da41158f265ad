"""Settings: FRONTDESK_* variables and .env, laptop defaults, production refusals."""

from __future__ import annotations

import dataclasses
import re
import threading
from pathlib import Path

import pytest

from app.config import ConfigError, Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "FRONTDESK_ENV": "production", "FRONTDESK_SECRET_KEY": "p" * 40,
    "FRONTDESK_ISSUER": "https://id.example.com",
    "FRONTDESK_DATABASE_URL": "postgresql+psycopg://fd@db.internal/frontdesk",
}


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    """Run from an empty folder so that no .env of the checkout is read."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def settings(environ: dict[str, str] | None = None, **overrides) -> Settings:
    return load_settings(environ or {}, **overrides)


def test_defaults_run_on_a_laptop(in_tmp):
    s = settings()
    instance = in_tmp / "instance"
    assert s.env == "development" and not s.is_production
    assert s.issuer == "http://localhost:5000"
    assert s.instance_path == str(instance)
    assert s.database_url == f"sqlite:///{instance / 'frontdesk.db'}"
    assert s.redis_url == ""  # the embedded store
    assert s.mail_backend == "console"
    assert s.mail_outbox == str(instance / "outbox")
    assert s.demo_enabled is True
    assert (s.argon2_memory_kib, s.argon2_time_cost, s.argon2_parallelism) == (19456, 2, 1)


def test_generated_files_are_private_and_persistent(in_tmp):
    first = settings()
    instance = in_tmp / "instance"
    secret_file = instance / "secret_key"
    assert secret_file.read_text() == first.secret_key
    assert len(first.secret_key) >= 64
    assert secret_file.stat().st_mode & 0o777 == 0o600
    assert (instance / "frontdesk.db").stat().st_mode & 0o777 == 0o600
    assert instance.stat().st_mode & 0o777 == 0o700
    assert settings().secret_key == first.secret_key


def test_processes_starting_together_share_one_generated_secret(in_tmp):
    seen: list[str] = []
    barrier = threading.Barrier(8)

    def start():
        barrier.wait()
        seen.append(settings().secret_key)

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 8 and len(set(seen)) == 1
    assert [p.name for p in (in_tmp / "instance").iterdir() if p.name.startswith(".")] == []


def test_empty_secret_file_is_an_error(in_tmp):
    (in_tmp / "instance").mkdir()
    (in_tmp / "instance" / "secret_key").write_text("")
    with pytest.raises(ConfigError, match="secret_key is empty"):
        settings()


def test_environment_variables_are_typed(in_tmp):
    s = settings({"FRONTDESK_ISSUER": "https://id.example.com", "FRONTDESK_SMTP_PORT": "587",
                  "FRONTDESK_SMTP_STARTTLS": "yes", "FRONTDESK_SIGNUP_ENABLED": "off",
                  "FRONTDESK_REDIS_URL": "redis://127.0.0.1:6379/2",
                  "FRONTDESK_SOMETHING_NEW": "kept", "OTHER_VARIABLE": "ignored"})
    assert s.issuer == "https://id.example.com" and s.is_https
    assert s.smtp_port == 587 and s.smtp_starttls is True and s.signup_enabled is False
    assert s.redis_url == "redis://127.0.0.1:6379/2"
    assert s.extra == {"something_new": "kept"}


def test_dotenv_is_read_and_the_environment_wins(in_tmp):
    (in_tmp / ".env").write_text(
        "# comment\nFRONTDESK_ISSUER='https://from-dotenv.example.com'\n"
        "export FRONTDESK_SMTP_HOST=\"mail.example.com\"\nFRONTDESK_SMTP_PORT=2525\n\nnot a line\n")
    s = settings({"FRONTDESK_SMTP_PORT": "25"})
    assert s.issuer == "https://from-dotenv.example.com"
    assert s.smtp_host == "mail.example.com"
    assert s.smtp_port == 25


def test_keyword_overrides_win(in_tmp):
    assert settings({"FRONTDESK_SMTP_PORT": "2525"}, smtp_port=26).smtp_port == 26


BAD = [
    ({"FRONTDESK_SMTP_PORT": "twenty-five"}, "FRONTDESK_SMTP_PORT must be a whole number"),
    ({"FRONTDESK_SMTP_SSL": "maybe"}, "FRONTDESK_SMTP_SSL must be true or false"),
    ({"FRONTDESK_ENV": "staging"}, "FRONTDESK_ENV must be development or production"),
    ({"FRONTDESK_MAIL_BACKEND": "pigeon"}, "FRONTDESK_MAIL_BACKEND"),
    ({"FRONTDESK_MFA_POLICY": "sometimes"}, "FRONTDESK_MFA_POLICY"),
    ({"FRONTDESK_ARGON2_MEMORY_KIB": "4096"}, "OWASP minimum"),
    ({"FRONTDESK_ARGON2_TIME_COST": "1"}, "OWASP minimum"),
    ({"FRONTDESK_ISSUER": "http://127.0.0.1:5000/"}, "without a trailing slash"),
    ({"FRONTDESK_ISSUER": "127.0.0.1:5000"}, "FRONTDESK_ISSUER must be an http(s) URL"),
    ({"FRONTDESK_REDIS_URL": "127.0.0.1:6379"}, "FRONTDESK_REDIS_URL must start with"),
    ({"FRONTDESK_DATABASE_URL": "mysql://x@y/z"}, "FRONTDESK_DATABASE_URL must be"),
    ({"FRONTDESK_DATABASE_URL": "not a url"}, "FRONTDESK_DATABASE_URL is not a database URL"),
    ({"FRONTDESK_SESSION_IDLE_SECONDS": "0"}, "at least 1"),
    ({"FRONTDESK_LOCKOUT_SECONDS": "-5"}, "FRONTDESK_LOCKOUT_SECONDS must not be negative"),
]


@pytest.mark.parametrize(("environ", "message"), BAD)
def test_bad_values_name_the_variable(environ, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        settings(environ)


@pytest.mark.parametrize("url", ["postgres://fd@db/frontdesk", "postgresql://fd@db/frontdesk",
                                 "postgresql+psycopg://fd@db/frontdesk"])
def test_postgresql_urls_use_psycopg_3(url):
    assert settings({"FRONTDESK_DATABASE_URL": url}).database_url == \
        "postgresql+psycopg://fd@db/frontdesk"


def test_production_refuses_generated_secrets_and_guesses(in_tmp):
    with pytest.raises(ConfigError) as error:
        settings({"FRONTDESK_ENV": "production"})
    assert str(error.value) == ("production needs FRONTDESK_SECRET_KEY, FRONTDESK_ISSUER, "
                                "FRONTDESK_DATABASE_URL")
    assert not (in_tmp / "instance" / "secret_key").exists()


def test_production_with_everything_set(in_tmp):
    s = settings(PRODUCTION)
    assert s.is_production and s.secret_key == "p" * 40
    assert s.demo_enabled is False and s.theme_preview_enabled is False  # opt-in there
    assert settings(PRODUCTION | {"FRONTDESK_DEMO_ENABLED": "true"}).demo_enabled is True
    assert not (in_tmp / "instance" / "secret_key").exists()


def test_production_settings_may_come_from_dotenv(in_tmp):
    (in_tmp / ".env").write_text("\n".join(f"{k}={v}" for k, v in PRODUCTION.items()))
    assert settings().is_production


def test_production_via_overrides_gets_production_defaults():
    s = settings(env="production", secret_key="p" * 40, issuer="https://id.example.com",
                 database_url="postgresql+psycopg://fd@db/frontdesk")
    assert s.demo_enabled is False


PRODUCTION_BAD = [
    ({"FRONTDESK_SECRET_KEY": "short"}, "at least 32 characters"),
    ({"FRONTDESK_ISSUER": "http://id.example.com"}, "must be an https URL in production"),
    ({"FRONTDESK_DATABASE_URL": "sqlite://"}, "persistent database"),
    ({"FRONTDESK_ISSUER": ""}, "production needs FRONTDESK_ISSUER"),
]


@pytest.mark.parametrize(("change", "message"), PRODUCTION_BAD)
def test_production_refusals(change, message):
    with pytest.raises(ConfigError, match=message):
        settings(PRODUCTION | change)


def test_production_allows_plain_http_on_loopback():
    s = settings(PRODUCTION | {"FRONTDESK_ISSUER": "http://127.0.0.1:8000"})
    assert not s.is_https


def test_csv_helper():
    s = settings({"FRONTDESK_CORS_ORIGINS": " https://a.example , ,https://b.example"})
    assert s.csv("cors_origins") == ["https://a.example", "https://b.example"]


def test_every_setting_has_help_text():
    missing = [f.name for f in dataclasses.fields(Settings) if not f.metadata.get("help")]
    assert missing == []


def test_readme_lists_every_setting():
    """The configuration table in README.md: regenerate with scripts/config_table.py --write."""
    readme = (ROOT / "README.md").read_text()
    listed = set(re.findall(r"^\| `FRONTDESK_([A-Z0-9_]+)` \|", readme, flags=re.M))
    fields = {f.name.upper() for f in dataclasses.fields(Settings) if f.name != "extra"}
    assert sorted(fields - listed) == [], "run: python scripts/config_table.py --write"
    assert sorted(listed - fields) == [], "README lists settings that no longer exist"


def test_app_refuses_to_start_outside_its_checkout(tmp_path, monkeypatch):
    """A wheel installed with `pip install .` holds the package only: start-up names what
    is missing instead of answering 500 on every page."""
    import app as frontdesk

    (tmp_path / "static").mkdir()
    monkeypatch.setattr(frontdesk, "ROOT", tmp_path)
    with pytest.raises(ConfigError, match=r"templates, migrations not found in .*pip install -e"):
        frontdesk.create_app(settings=load_settings({}, instance_path=str(tmp_path / "i")))
