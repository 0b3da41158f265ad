"""One typed Settings object, read from FRONTDESK_* environment variables (and `.env`).

Every setting has a default that runs on a laptop; production (`FRONTDESK_ENV=production`)
refuses to start without a real secret key, issuer and database.
"""

from __future__ import annotations

import dataclasses
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints
from urllib.parse import urlsplit

from app.proxies import parse_networks

PREFIX = "FRONTDESK_"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
# RFC 9068 §2.1: authorization and resource servers MUST support RS256, hence the default.
ACCESS_TOKEN_ALGS = ("RS256", "ES256")


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


def _meta(help_text: str) -> dict[str, str]:
    return {"help": help_text}


@dataclass(frozen=True)
class Settings:
    env: str = field(default="development", metadata=_meta("development | production"))
    issuer: str = field(default="http://localhost:5000", metadata=_meta(
        "Public base URL; the `iss` of every token and the base of every link in mails"))
    secret_key: str = field(default="", metadata=_meta(
        "Signs CSRF tokens, derives the key that encrypts private keys and TOTP secrets. "
        "Generated into instance/secret_key in development"))
    database_url: str = field(default="", metadata=_meta(
        "SQLAlchemy URL; default sqlite:///instance/frontdesk.db"))
    redis_url: str = field(default="", metadata=_meta(
        "Redis for the ephemeral store; empty = embedded store on the SQL database"))
    redis_prefix: str = field(default="fd:", metadata=_meta("Prefix of every Redis key"))
    instance_path: str = field(default="", metadata=_meta(
        "Folder for the SQLite file, generated secrets and the mail outbox; default ./instance"))

    mail_backend: str = field(default="console", metadata=_meta("smtp | console | file"))
    mail_outbox: str = field(default="", metadata=_meta(
        "Folder for the file mail backend (one .eml per message); default instance/outbox"))
    mail_from: str = field(default="Frontdesk <no-reply@localhost>", metadata=_meta(
        "From header of every message"))
    smtp_host: str = field(default="127.0.0.1", metadata=_meta("SMTP server"))
    smtp_port: int = field(default=25, metadata=_meta("SMTP port"))
    smtp_username: str = field(default="", metadata=_meta("SMTP login (optional)"))
    smtp_password: str = field(default="", metadata=_meta("SMTP password (optional)"))
    smtp_starttls: bool = field(default=False, metadata=_meta("Use STARTTLS"))
    smtp_ssl: bool = field(default=False, metadata=_meta("Use implicit TLS (port 465)"))
    smtp_timeout_seconds: int = field(default=10, metadata=_meta("SMTP socket timeout"))

    theme_dir: str = field(default="", metadata=_meta(
        "Theme folder: templates/ shadows the default pages, static/ the stylesheet"))
    session_cookie_name: str = field(default="frontdesk_session", metadata=_meta(
        "Name of the browser session cookie"))
    session_idle_seconds: int = field(default=7 * 86400, metadata=_meta(
        "A browser session ends after this long without a request"))
    session_absolute_seconds: int = field(default=30 * 86400, metadata=_meta(
        "A browser session ends this long after login, whatever its use"))

    argon2_memory_kib: int = field(default=19456, metadata=_meta("argon2id memory cost"))
    argon2_time_cost: int = field(default=2, metadata=_meta("argon2id iterations"))
    argon2_parallelism: int = field(default=1, metadata=_meta("argon2id lanes"))

    access_token_seconds: int = field(default=3600, metadata=_meta(
        "Default access token lifetime (a client may set 300..86400)"))
    access_token_alg: str = field(default="RS256", metadata=_meta(
        "Access token signing algorithm, RS256 | ES256: every resource server supports "
        "RS256 (RFC 9068); ES256 is about ten times cheaper to sign; both verify via the JWKS"))
    id_token_seconds: int = field(default=3600, metadata=_meta("ID token lifetime"))
    refresh_token_seconds: int = field(default=30 * 86400, metadata=_meta(
        "Default refresh token lifetime (a client may set 1 h .. 10 years)"))
    refresh_grace_seconds: int = field(default=5, metadata=_meta(
        "A rotated refresh token presented again within this window gets the same successor"))
    code_seconds: int = field(default=60, metadata=_meta("Authorization code lifetime"))
    interaction_seconds: int = field(default=1800, metadata=_meta(
        "How long a pending authorization request waits for the user"))

    demo_enabled: bool = field(default=True, metadata=_meta(
        "Serve the built-in demo app at /demo (off by default in production)"))
    theme_preview_enabled: bool = field(default=True, metadata=_meta(
        "Serve /_theme/preview (off by default in production)"))
    signup_enabled: bool = field(default=True, metadata=_meta("Allow self sign-up"))
    mfa_policy: str = field(default="optional", metadata=_meta("off | optional | required"))
    passkey_recent_sign_in_seconds: int = field(default=600, metadata=_meta(
        "Adding a passkey on /account needs a sign-in at most this old"))
    password_min_length: int = field(default=8, metadata=_meta("Minimum password length"))
    password_require: str = field(default="", metadata=_meta(
        "Required character classes, comma separated: lower,upper,digit,symbol"))
    signup_required_attributes: str = field(default="name", metadata=_meta(
        "Attributes asked for at sign-up, comma separated"))
    cors_origins: str = field(default="", metadata=_meta(
        "Extra origins allowed to call the token/userinfo/JWKS endpoints, comma separated"))
    trusted_proxies: str = field(default="127.0.0.1,::1", metadata=_meta(
        "Reverse proxies (addresses or networks, comma separated) whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed; empty = none"))
    groups_claim: str = field(default="groups", metadata=_meta(
        "Name of the claim that lists the user's groups in ID/access tokens and userinfo"))

    login_max_failures: int = field(default=5, metadata=_meta(
        "Failed logins for one account before a temporary lockout"))
    lockout_seconds: int = field(default=900, metadata=_meta("Length of a temporary lockout"))
    ip_max_requests_per_minute: int = field(default=30, metadata=_meta(
        "Sensitive form posts (login, MFA, codes, mail) per IP per minute before 429"))
    code_max_attempts: int = field(default=5, metadata=_meta(
        "Wrong entries of one e-mailed code before it is void"))
    code_ttl_seconds: int = field(default=900, metadata=_meta("Lifetime of e-mailed codes"))
    mail_cooldown_seconds: int = field(default=60, metadata=_meta(
        "Minimum time between two code mails to one address"))

    custom_attributes: str = field(default="", metadata=_meta(
        "Custom user attributes: JSON list of {name, type (string|number|boolean|datetime), "
        "required, mutable, claim, scope, access_token, read_clients, write_clients, label, "
        "max_length, enum, min, max}; see docs/admin-api.md"))
    trigger_pre_sign_up: str = field(default="", metadata=_meta(
        "Trigger: 'package.module:function' or an https:// webhook URL (docs/triggers.md)"))
    trigger_post_confirmation: str = field(default="", metadata=_meta(
        "Trigger after the e-mail is confirmed (callable or webhook URL)"))
    trigger_pre_authentication: str = field(default="", metadata=_meta(
        "Trigger before a password login is accepted (callable or webhook URL)"))
    trigger_post_authentication: str = field(default="", metadata=_meta(
        "Trigger after a successful login (callable or webhook URL)"))
    trigger_pre_token_generation: str = field(default="", metadata=_meta(
        "Trigger that adds, overrides or suppresses token claims (callable or webhook URL)"))
    trigger_custom_message: str = field(default="", metadata=_meta(
        "Trigger that rewrites the subject/body of each mail (callable or webhook URL)"))
    trigger_user_migration: str = field(default="", metadata=_meta(
        "Trigger that authenticates an unknown e-mail against a legacy system"))
    trigger_webhook_secret: str = field(default="", metadata=_meta(
        "HMAC-SHA256 key signing webhook triggers (X-Frontdesk-Signature); required "
        "when any trigger is a URL"))
    trigger_timeout_seconds: int = field(default=5, metadata=_meta(
        "Timeout of one webhook trigger call"))

    google_client_id: str = field(default="", metadata=_meta("Google OAuth client id"))
    google_client_secret: str = field(default="", metadata=_meta("Google OAuth client secret"))
    google_discovery_url: str = field(
        default="https://accounts.google.com/.well-known/openid-configuration",
        metadata=_meta("Google discovery document (overridable for tests)"))
    apple_client_id: str = field(default="", metadata=_meta("Apple Services ID"))
    apple_team_id: str = field(default="", metadata=_meta("Apple team id"))
    apple_key_id: str = field(default="", metadata=_meta("Apple key id of the .p8 key"))
    apple_private_key_path: str = field(default="", metadata=_meta("Path of the .p8 key"))
    apple_issuer: str = field(default="https://appleid.apple.com", metadata=_meta(
        "Apple issuer (overridable for tests)"))
    apple_authorize_url: str = field(default="https://appleid.apple.com/auth/authorize",
                                     metadata=_meta("Apple authorization endpoint"))
    apple_token_url: str = field(default="https://appleid.apple.com/auth/token",
                                 metadata=_meta("Apple token endpoint"))
    apple_jwks_url: str = field(default="https://appleid.apple.com/auth/keys",
                                metadata=_meta("Apple JWKS"))
    google_trust_email: bool = field(default=True, metadata=_meta(
        "Link a Google login to an existing account with the same verified e-mail"))
    google_scopes: str = field(default="openid email profile", metadata=_meta(
        "Scopes asked of Google, space separated"))
    google_attribute_mapping: str = field(default="", metadata=_meta(
        'JSON object upstream claim -> user attribute; empty = {"name": "name", ...}'))
    google_update_attributes_on_login: bool = field(default=False, metadata=_meta(
        "Re-apply the Google attribute mapping at every login (not only the first)"))
    apple_trust_email: bool = field(default=True, metadata=_meta(
        "Link an Apple login to an existing account with the same verified e-mail"))
    apple_scopes: str = field(default="name email", metadata=_meta(
        "Scopes asked of Apple, space separated"))
    apple_attribute_mapping: str = field(default="", metadata=_meta(
        "JSON object upstream claim -> user attribute; empty = name, given_name, family_name"))
    apple_update_attributes_on_login: bool = field(default=False, metadata=_meta(
        "Re-apply the Apple attribute mapping at every login (not only the first)"))
    apple_client_secret_seconds: int = field(default=86400, metadata=_meta(
        "Lifetime of the ES256 client-secret JWT sent to Apple (at most 15777000)"))
    oidc_providers: str = field(default="", metadata=_meta(
        "Generic OIDC upstreams: JSON list of {name, label, discovery_url, client_id, "
        "client_secret, scopes, trust_email, attribute_mapping, update_attributes_on_login}"))
    oauth2_providers: str = field(default="", metadata=_meta(
        "Plain OAuth 2.0 upstreams: JSON list of {name, label, preset (facebook|github), "
        "client_id, client_secret, authorize_url, token_url, userinfo_url, emails_url, scopes, "
        "id_field, email_field, email_verified_field, name_field, trust_email, "
        "attribute_mapping, update_attributes_on_login, token_endpoint_auth_method}"))
    saml_providers: str = field(default="", metadata=_meta(
        "SAML 2.0 identity providers: JSON list of {name, label, metadata_url | metadata_file, "
        "idp_entity_id, entity_id, attribute_mapping, email_attribute, trust_email, "
        "update_attributes_on_login, name_id_format, idp_initiated}"))
    saml_sp_key_path: str = field(default="", metadata=_meta(
        "PEM private key signing Frontdesk's SAML requests; empty: generated into the "
        "instance folder"))
    saml_sp_cert_path: str = field(default="", metadata=_meta(
        "PEM certificate of that key, published in the SP metadata (with SAML_SP_KEY_PATH)"))
    saml_xmlsec_binary: str = field(default="", metadata=_meta(
        "Path of the xmlsec1 program that checks SAML signatures; empty: found on PATH"))
    saml_clock_skew_seconds: int = field(default=60, metadata=_meta(
        "Clock difference allowed when checking SAML NotBefore / NotOnOrAfter"))
    federation_http_timeout_seconds: int = field(default=10, metadata=_meta(
        "Timeout of each request to an upstream identity provider"))
    federation_metadata_seconds: int = field(default=3600, metadata=_meta(
        "How long an upstream discovery document and JWKS are cached per process"))

    userpool_api_enabled: bool = field(default=True, metadata=_meta(
        "Serve the user-pool API (cognito-idp JSON 1.1) under <issuer>/cognito"))
    userpool_id: str = field(default="", metadata=_meta(
        "The pool id in tokens and SDK settings, like eu-west-1_AbCdEfGhI; empty = derived "
        "from the secret key and userpool_region (stable while the secret key is)"))
    userpool_region: str = field(default="us-east-1", metadata=_meta(
        "Region part of a derived pool id and the SigV4 region of the admin actions"))
    userpool_default_auth_flows: str = field(default="USER_SRP_AUTH,REFRESH_TOKEN_AUTH",
                                             metadata=_meta(
        "Auth flows of an app client registered without --auth-flow, comma separated"))
    userpool_cors_origins: str = field(default="", metadata=_meta(
        "Browser origins allowed to call the user-pool API besides those of the app "
        "clients' redirect URIs, comma separated"))

    extra: dict[str, Any] = field(default_factory=dict, metadata=_meta(
        "(internal) unknown FRONTDESK_* variables, for optional features"))

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def is_https(self) -> bool:
        return self.issuer.startswith("https://")

    def csv(self, name: str) -> list[str]:
        """A comma-separated setting as a list without empty items."""
        return [p.strip() for p in str(getattr(self, name)).split(",") if p.strip()]


def _coerce(name: str, raw: str, kind: Any) -> Any:
    if kind is bool:
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off", ""}:
            return False
        raise ConfigError(f"{PREFIX}{name.upper()} must be true or false, not {raw!r}")
    if kind is int:
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{PREFIX}{name.upper()} must be a whole number") from None
    return raw


def read_dotenv(path: Path) -> dict[str, str]:
    """Parse a `.env` file: KEY=VALUE lines, # comments, optional quotes."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip().removeprefix("export ").strip()] = value
    return values


def load_settings(environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
    """Build Settings from .env, then the environment, then keyword overrides."""
    env = dict(read_dotenv(Path.cwd() / ".env"))
    env.update(os.environ if environ is None else environ)
    hints = get_type_hints(Settings)
    values: dict[str, Any] = {}
    extra: dict[str, str] = {}
    known = {f.name for f in dataclasses.fields(Settings)}
    for key, raw in env.items():
        if not key.startswith(PREFIX):
            continue
        name = key[len(PREFIX):].lower()
        if name in known and name != "extra":
            values[name] = _coerce(name, raw, hints[name])
        else:
            extra[name] = raw
    values.update(overrides)
    if values.get("env") == "production":  # development conveniences are opt-in there
        values.setdefault("demo_enabled", False)
        values.setdefault("theme_preview_enabled", False)
    values.setdefault("extra", extra)
    settings = Settings(**values)
    return _complete(settings, explicit=set(values))


def _complete(settings: Settings, explicit: set[str]) -> Settings:
    """Fill instance-dependent defaults and validate."""
    if settings.env not in {"development", "production"}:
        raise ConfigError(f"{PREFIX}ENV must be development or production")
    instance = Path(settings.instance_path or Path.cwd() / "instance").resolve()
    changes: dict[str, Any] = {"instance_path": str(instance)}
    if settings.is_production:
        _check_production(settings, explicit)
    _check_values(settings)
    if settings.database_url:
        changes["database_url"] = _normalize_database_url(settings)
    else:
        database = instance / "frontdesk.db"
        _create_private_file(database)
        changes["database_url"] = f"sqlite:///{database}"
    if not settings.secret_key:
        changes["secret_key"] = _persisted_secret(instance / "secret_key")
    if not settings.mail_outbox:
        changes["mail_outbox"] = str(instance / "outbox")
    return dataclasses.replace(settings, **changes)


def _check_production(settings: Settings, explicit: set[str]) -> None:
    """Production never runs on generated secrets, a guessed issuer or a default database."""
    missing = [n for n in ("secret_key", "issuer", "database_url")
               if n not in explicit or not getattr(settings, n)]
    if missing:
        raise ConfigError("production needs " + ", ".join(
            f"{PREFIX}{m.upper()}" for m in missing))
    if len(settings.secret_key) < 32:
        raise ConfigError(f"{PREFIX}SECRET_KEY must be at least 32 characters")
    host = urlsplit(settings.issuer).hostname or ""
    if not settings.is_https and host not in LOOPBACK_HOSTS:
        raise ConfigError(f"{PREFIX}ISSUER must be an https URL in production")
    if settings.database_url.rstrip("/") in {"sqlite:", "sqlite://", "sqlite:///:memory:"}:
        raise ConfigError(f"{PREFIX}DATABASE_URL must name a persistent database")


def _check_values(settings: Settings) -> None:
    checks = [
        (settings.mail_backend in {"smtp", "console", "file"},
         "MAIL_BACKEND must be smtp, console or file"),
        (settings.mfa_policy in {"off", "optional", "required"},
         "MFA_POLICY must be off, optional or required"),
        (settings.access_token_alg in ACCESS_TOKEN_ALGS,
         "ACCESS_TOKEN_ALG must be RS256 or ES256"),
        (settings.argon2_memory_kib >= 19456 and settings.argon2_time_cost >= 2
         and settings.argon2_parallelism >= 1,
         "ARGON2_* parameters are below the OWASP minimum (19456 KiB, t=2, p=1)"),
        (settings.issuer.startswith(("http://", "https://")) and not settings.issuer.endswith("/")
         and bool(urlsplit(settings.issuer).hostname),
         "ISSUER must be an http(s) URL without a trailing slash"),
        (not settings.redis_url or settings.redis_url.startswith(REDIS_SCHEMES),
         "REDIS_URL must start with redis://, rediss:// or unix://"),
        (settings.session_idle_seconds >= 1 and settings.session_absolute_seconds >= 1,
         "SESSION_IDLE_SECONDS and SESSION_ABSOLUTE_SECONDS must be at least 1"),
        (bool(re.fullmatch(r"[a-z]+(-[a-z]+)+-\d", settings.userpool_region)),
         "USERPOOL_REGION must look like a region, e.g. eu-west-1"),
        (not settings.userpool_id
         or bool(re.fullmatch(r"[a-z]+(-[a-z]+)+-\d_[0-9A-Za-z]{1,55}", settings.userpool_id)),
         "USERPOOL_ID must look like <region>_<letters and digits>, e.g. eu-west-1_AbCdEfGhI"),
    ]
    for ok, message in checks:
        if not ok:
            raise ConfigError(PREFIX + message)
    try:
        parse_networks(settings.csv("trusted_proxies"))
    except ValueError as exc:
        raise ConfigError(f"{PREFIX}TRUSTED_PROXIES: {exc}") from None
    hints = get_type_hints(Settings)
    for f in dataclasses.fields(Settings):
        if hints[f.name] is int and getattr(settings, f.name) < 0:
            raise ConfigError(f"{PREFIX}{f.name.upper()} must not be negative")


def _normalize_database_url(settings: Settings) -> str:
    """Accept the usual spellings of a PostgreSQL URL; refuse databases we do not support."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(settings.database_url)
    except ArgumentError:
        raise ConfigError(f"{PREFIX}DATABASE_URL is not a database URL") from None
    if url.drivername in {"postgres", "postgresql"}:
        url = url.set(drivername="postgresql+psycopg")
    if url.drivername not in {"sqlite", "sqlite+pysqlite", "postgresql+psycopg"}:
        raise ConfigError(f"{PREFIX}DATABASE_URL must be sqlite:///PATH or "
                          "postgresql+psycopg://USER@HOST:PORT/DB")
    return url.render_as_string(hide_password=False)


def _create_private_file(path: Path) -> None:
    """Create an empty file readable by its owner only (the SQLite database holds
    password hashes and sealed keys; SQLite gives its -wal/-shm files the same mode)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


def _persisted_secret(path: Path) -> str:
    """Read a generated secret, creating it with mode 0600 on first use.

    The file appears complete or not at all (written aside, then hard-linked into place),
    so processes starting together all read the same secret.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        try:
            os.link(temp, path)
        except FileExistsError:  # another process won the race: use its secret
            pass
        finally:
            temp.unlink()
    value = path.read_text().strip()
    if not value:
        raise ConfigError(f"{path} is empty: delete it or set {PREFIX}SECRET_KEY")
    return value
