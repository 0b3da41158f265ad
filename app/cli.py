"""The `frontdesk` command: scripts and operators rely on its output.

Every command accepts --json and then prints exactly one JSON object on stdout (logs, such
as Alembic's, go to stderr). Wrong input prints one line on stderr and exits 1, with nothing
half-written: each command commits once, at its end.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from pathlib import Path
from urllib.parse import urlsplit

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy.exc import IntegrityError

from app import ROOT, create_app
from app.accounts.mfa import store_totp_secret
from app.accounts.passwords import hash_password, verify_password
from app.accounts.users import UserError, create_user, describe_user, require_user
from app.cli_calibrate import hash_calibrate_command
from app.config import ConfigError
from app.errors import is_unavailable
from app.extensions import db, frontdesk_state
from app.keys import ensure_signing_keys, rotate_keys
from app.models import Client, SigningKey, User
from app.oauth.clients import ClientError, create_client, describe_client
from app.oauth.logout import end_everything
from app.userpool_api.cli import cognito_group
from app.userpool_api.pool import configure_client, normalize_flow

FLASK_ONLY_OPTIONS = {"env_file", "app", "debug"}


def _settings():
    return frontdesk_state().settings


def _emit(data, as_json: bool, text: str | None = None) -> None:
    if as_json:
        click.echo(json.dumps(data, default=str))
    else:
        click.echo(text if text is not None else json.dumps(data, indent=2, default=str))


def _fail(message: str):
    db.session.rollback()
    raise click.ClickException(message.splitlines()[0] if message else "failed")


def _commit(what: str) -> None:
    """Commit, turning a lost race on a unique key into a one-line error."""
    try:
        db.session.commit()
    except IntegrityError:
        _fail(f"{what} already exists")


def _create_cli_app():
    """create_app() for the CLI: a configuration error is one line, not a traceback."""
    try:
        return create_app()
    except (ConfigError, ValueError) as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)


class FrontdeskGroup(FlaskGroup):
    """Flask's CLI group without Flask's generic options (--app, --env-file, --debug);
    a backend that is down or a bad setting ends the command with one line on stderr."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.params = [p for p in self.params if p.name not in FLASK_ONLY_OPTIONS]

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from None
        except Exception as exc:
            if is_unavailable(exc):  # the app context's teardown rolls the session back
                raise click.ClickException(
                    f"database or store unavailable ({exc.__class__.__name__})") from None
            raise


def upgrade_database() -> None:
    """Apply pending migrations (Alembic logs to stderr) and create the signing keys."""
    from alembic import command

    config = current_app.extensions["migrate"].migrate.get_config()
    command.upgrade(config, "head")
    ensure_signing_keys(_settings().secret_key)


@click.group(cls=FrontdeskGroup, create_app=_create_cli_app, add_default_commands=False,
             add_version_option=False, load_dotenv=False, set_debug_flag=False)
def main() -> None:
    """Frontdesk: OAuth 2.0 / OpenID Connect provider with hosted login pages.

    Configuration comes from FRONTDESK_* environment variables (and ./.env).
    """


json_option = click.option("--json", "as_json", is_flag=True,
                           help="Print exactly one JSON object on stdout")


def _issuer_port(issuer: str) -> int:
    parts = urlsplit(issuer)
    return parts.port or 5000


@main.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, help="Default: the port of FRONTDESK_ISSUER, else 5000")
@with_appcontext
def run_command(host: str, port: int | None) -> None:
    """Serve with the development server; migrates the database first.

    For production use `frontdesk serve`.
    """
    upgrade_database()
    settings = _settings()
    port = port or _issuer_port(settings.issuer)
    click.echo(f"Frontdesk {settings.env} server on http://{host}:{port}  "
               f"(issuer {settings.issuer})", err=True)
    if settings.demo_enabled:
        click.echo(f"Demo app: {settings.issuer}/demo", err=True)
    if not settings.issuer.endswith(f":{port}") and settings.issuer.startswith("http://127.0.0.1"):
        click.echo(f"warning: FRONTDESK_ISSUER is {settings.issuer}; set it to the URL users "
                   "reach this server at", err=True)
    from werkzeug.serving import run_simple

    run_simple(host, port, current_app._get_current_object(), threaded=True,
               use_reloader=False, use_debugger=False)


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Behind a reverse proxy on this machine; 0.0.0.0 to listen everywhere")
@click.option("--port", type=int,
              help="Default: the issuer's port when the issuer is on loopback (a local trial), "
                   "else 8000 (behind a reverse proxy)")
@click.option("--workers", type=click.IntRange(1, 256),
              help="Worker processes. Default: one per core (WEB_CONCURRENCY overrides)")
@click.option("--max-rss-mib", type=click.IntRange(64), default=300, show_default=True,
              help="A worker above this resident memory is replaced")
@with_appcontext
def serve_command(host: str, port: int | None, workers: int | None, max_rss_mib: int) -> None:
    """Serve in production with granian: migrates and creates the first signing keys once,
    then starts one single-threaded worker per core (bench/README.md, "WSGI server")."""
    workers = workers or _web_concurrency() or os.cpu_count() or 1
    port = port or default_serve_port(_settings().issuer)
    command = granian_command(host, port, workers, max_rss_mib)
    upgrade_database()
    db.engine.dispose()  # no connection crosses into the server's workers
    settings = _settings()
    click.echo(f"Frontdesk {settings.env} on http://{host}:{port} with {workers} granian "
               f"worker(s) (issuer {settings.issuer})", err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(command[0], command)  # noqa: S606 - a fixed argument list, no shell


def default_serve_port(issuer: str) -> int:
    """The issuer's own port when it names this machine (http://127.0.0.1:9000 is reached
    on 9000, nothing in front); a public issuer is reached through a proxy, which forwards
    to 8000."""
    parts = urlsplit(issuer)
    if parts.hostname in ("127.0.0.1", "localhost", "::1") and parts.port:
        return parts.port
    return 8000


def _web_concurrency() -> int | None:
    raw = os.environ.get("WEB_CONCURRENCY", "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise click.ClickException(f"WEB_CONCURRENCY must be a whole number of workers, not "
                                   f"{raw!r}")
    return int(raw)


def granian_command(host: str, port: int, workers: int, max_rss_mib: int) -> list[str]:
    """The granian command line `serve` runs (wsgi.py of this checkout).

    One blocking thread per worker: every thread that verifies a password keeps a 19 MiB
    argon2id buffer, and more threads measured no cheaper per request (bench/README.md,
    "WSGI server"). Workers that die are respawned; one that outgrows max_rss_mib is
    replaced (memory is flat in the soak; this is the backstop)."""
    granian = Path(sys.executable).with_name("granian")
    if not granian.exists():
        raise click.ClickException("granian is not installed in this environment "
                                   "(pip install granian)")
    return [str(granian), "--interface", "wsgi", "--host", host, "--port", str(port),
            "--workers", str(workers), "--blocking-threads", "1", "--no-ws",
            "--respawn-failed-workers", "--workers-max-rss", str(max_rss_mib),
            "--log-level", "warning", "--working-dir", str(ROOT), "wsgi:app"]


# --- clients ---------------------------------------------------------------------------


@main.group("clients")
def clients_group() -> None:
    """Register and inspect OAuth clients."""


@clients_group.command("create")
@click.option("--name", required=True)
@click.option("--redirect-uri", "redirect_uris", multiple=True,
              help="Exact redirect URI (repeat for several; one at least for the code grant)")
@click.option("--post-logout-redirect-uri", "post_logout_uris", multiple=True)
@click.option("--public", is_flag=True, help="No secret; PKCE required (SPA, native app)")
@click.option("--grant-type", "grant_types", multiple=True,
              help="authorization_code, refresh_token, client_credentials")
@click.option("--scope", "scopes", multiple=True, help="Allowed scope (repeat)")
@click.option("--auth-method", type=click.Choice(
    ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]))
@click.option("--first-party", is_flag=True, help="Skip the consent page")
@click.option("--client-id", help="Fixed client id (config as code)")
@click.option("--client-secret", help="Fixed client secret (config as code)")
@click.option("--jwks-uri", help="For private_key_jwt: where the client publishes its keys")
@click.option("--jwks", "jwks_json", help="For private_key_jwt: the client's JWKS as JSON")
@click.option("--auth-flow", "auth_flows", multiple=True,
              help="User-pool API flow: USER_SRP_AUTH, USER_PASSWORD_AUTH, REFRESH_TOKEN_AUTH, "
                   "ADMIN_USER_PASSWORD_AUTH (repeat; keeps the secret sealed for SECRET_HASH)")
@json_option
@with_appcontext
def clients_create(name, redirect_uris, post_logout_uris, public, grant_types, scopes,
                   auth_method, first_party, client_id, client_secret, jwks_uri, jwks_json,
                   auth_flows, as_json):
    """Register a client; its secret is printed once and stored hashed."""
    extra = {}
    if jwks_uri:
        extra["jwks_uri"] = jwks_uri
    if jwks_json:
        try:
            extra["jwks"] = json.loads(jwks_json)
        except ValueError:
            _fail("--jwks is not valid JSON")
    try:
        new = create_client(
            name=name, redirect_uris=list(redirect_uris),
            post_logout_redirect_uris=list(post_logout_uris), is_public=public,
            grant_types=list(grant_types) or None, scopes=list(scopes) or None,
            auth_method=auth_method, is_first_party=first_party, client_id=client_id,
            client_secret=client_secret, **extra)
    except ClientError as exc:
        _fail(str(exc))
    if auth_flows:
        try:
            configure_client(_settings(), new.client, list(auth_flows), new.client_secret)
        except ValueError as exc:
            _fail(str(exc))
    _commit(f"client {client_id or new.client.client_id!r}")
    data = describe_client(new.client) | {"client_secret": new.client_secret}
    if auth_flows:
        data["auth_flows"] = [normalize_flow(flow) for flow in auth_flows]
    _emit(data, as_json, f"client_id:     {new.client.client_id}\n"
                         f"client_secret: {new.client_secret or '(public client)'}")


@clients_group.command("list")
@json_option
@with_appcontext
def clients_list(as_json):
    """List clients."""
    clients = db.session.scalars(db.select(Client).order_by(Client.created_at)).all()
    data = {"clients": [describe_client(c) for c in clients]}
    _emit(data, as_json, "\n".join(f"{c.client_id}\t{c.name}" for c in clients))


def _client_or_fail(client_id: str) -> Client:
    client = db.session.get(Client, client_id)
    if client is None:
        _fail(f"no client with id {client_id!r}")
    return client


@clients_group.command("show")
@click.argument("client_id")
@json_option
@with_appcontext
def clients_show(client_id, as_json):
    """Show one client."""
    _emit(describe_client(_client_or_fail(client_id)), as_json)


@clients_group.command("delete")
@click.argument("client_id")
@json_option
@with_appcontext
def clients_delete(client_id, as_json):
    """Delete a client and every token and consent issued to it."""
    db.session.delete(_client_or_fail(client_id))
    db.session.commit()
    _emit({"deleted": client_id}, as_json, f"deleted client {client_id}")


# --- users -----------------------------------------------------------------------------


@main.group("users")
def users_group() -> None:
    """Create and manage users."""


@users_group.command("create")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--verified", is_flag=True, help="Mark the e-mail address as verified")
@click.option("--group", "groups", multiple=True, help="Group to join (repeat)")
@click.option("--totp-secret", help="Base32 TOTP secret: MFA already enrolled")
@json_option
@with_appcontext
def users_create(email, password, verified, groups, totp_secret, as_json):
    """Create a user."""
    settings = _settings()
    try:
        user = create_user(settings, email=email, password=password, verified=verified,
                           groups=list(groups))
        if totp_secret:
            store_totp_secret(settings, user, totp_secret, enabled=True)
    except (UserError, ValueError) as exc:
        _fail(str(exc))
    _commit(f"a user with e-mail {email}")
    _emit(describe_user(user), as_json, f"created user {user.email} (sub {user.id})")


def _user_or_fail(email: str) -> User:
    try:
        return require_user(email)
    except UserError as exc:
        _fail(str(exc))


@users_group.command("list")
@json_option
@with_appcontext
def users_list(as_json):
    """List users."""
    users = db.session.scalars(db.select(User).order_by(User.created_at)).all()
    _emit({"users": [describe_user(u) for u in users]}, as_json,
          "\n".join(f"{u.id}\t{u.email}\t{u.status}" for u in users))


@users_group.command("show")
@click.argument("email")
@json_option
@with_appcontext
def users_show(email, as_json):
    """Show one user."""
    _emit(describe_user(_user_or_fail(email)), as_json)


def _set_status(email: str, status: str, as_json: bool) -> None:
    user = _user_or_fail(email)
    store = frontdesk_state().store
    store.ping()  # fail before changing anything if sessions could not be ended
    user.status = status
    db.session.commit()
    if status == "disabled":  # as the admin API does
        end_everything(user.id)
    _emit(describe_user(user), as_json, f"{user.email}: {status}")


@users_group.command("disable")
@click.argument("email")
@json_option
@with_appcontext
def users_disable(email, as_json):
    """Disable a user: no login, browser sessions ended, tokens revoked."""
    _set_status(email, "disabled", as_json)


@users_group.command("enable")
@click.argument("email")
@json_option
@with_appcontext
def users_enable(email, as_json):
    """Enable a disabled user."""
    _set_status(email, "enabled", as_json)


@users_group.command("delete")
@click.argument("email")
@json_option
@with_appcontext
def users_delete(email, as_json):
    """Delete a user with their sessions, tokens, consents and links."""
    user = _user_or_fail(email)
    user_id = user.id
    end_everything(user.id)  # its access tokens too: introspection would call them active
    db.session.delete(user)
    db.session.commit()
    _emit({"deleted": email, "id": user_id}, as_json, f"deleted user {email}")


# --- keys ------------------------------------------------------------------------------


@main.group("keys")
def keys_group() -> None:
    """Signing keys."""


def _describe_key(key: SigningKey) -> dict:
    return {"kid": key.kid, "alg": key.alg, "state": key.state,
            "created_at": key.created_at.isoformat(),
            "activated_at": key.activated_at.isoformat() if key.activated_at else None,
            "retired_at": key.retired_at.isoformat() if key.retired_at else None}


@keys_group.command("list")
@json_option
@with_appcontext
def keys_list(as_json):
    """List signing keys and their state (next, active, retired)."""
    ensure_signing_keys(_settings().secret_key)
    keys = db.session.scalars(db.select(SigningKey).order_by(SigningKey.created_at)).all()
    _emit({"keys": [_describe_key(k) for k in keys]}, as_json,
          "\n".join(f"{k.kid}\t{k.alg}\t{k.state}" for k in keys))


@keys_group.command("rotate")
@json_option
@with_appcontext
def keys_rotate(as_json):
    """Promote the published next key to active; retire the old one (still published)."""
    settings = _settings()
    longest = max(settings.access_token_seconds, settings.id_token_seconds, 86400)
    promoted = rotate_keys(settings.secret_key, keep_retired_seconds=longest)
    _emit({"active": [_describe_key(k) for k in promoted]}, as_json,
          "\n".join(f"active now: {k.kid} ({k.alg})" for k in promoted))


# --- demo ------------------------------------------------------------------------------


def _demo_password(instance: Path) -> str:
    """The demo user's password, generated once and kept in instance/ (mode 0600)."""
    path = instance / "demo_password"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write("demo-" + secrets.token_urlsafe(9))
    return path.read_text().strip()


def _ensure_demo_client(settings) -> None:
    """Create the demo client, or point it at the current issuer if that changed."""
    from app.demo import DEMO_CLIENT_ID, demo_client_secret, demo_post_logout_uri, demo_redirect_uri

    client = db.session.get(Client, DEMO_CLIENT_ID)
    if client is None:
        create_client(name="Frontdesk demo app", client_id=DEMO_CLIENT_ID,
                      client_secret=demo_client_secret(settings),
                      redirect_uris=[demo_redirect_uri(settings)],
                      post_logout_redirect_uris=[demo_post_logout_uri(settings)],
                      is_first_party=True)
        return
    client.redirect_uris = [demo_redirect_uri(settings)]
    client.post_logout_redirect_uris = [demo_post_logout_uri(settings)]
    client.set_secret(demo_client_secret(settings))


def _ensure_demo_user(settings, email: str, password: str) -> None:
    user = User.find_by_email(email)
    if user is None:
        create_user(settings, email=email, password=password, verified=True,
                    attributes={"name": "Demo User"})
    elif not verify_password(settings, user.password_hash, password):
        user.password_hash = hash_password(settings, password)  # instance/ was reset


@main.command("demo")
@json_option
@with_appcontext
def demo_command(as_json):
    """Create (once) the demo client and a demo user; print where to click."""
    from app.demo import DEMO_CLIENT_ID, demo_client_secret

    upgrade_database()
    settings = _settings()
    email = "demo@example.com"
    password = _demo_password(Path(settings.instance_path))
    _ensure_demo_client(settings)
    _ensure_demo_user(settings, email, password)
    db.session.commit()
    data = {"url": settings.issuer + "/demo", "email": email, "password": password,
            "client_id": DEMO_CLIENT_ID, "client_secret": demo_client_secret(settings),
            "issuer": settings.issuer}
    _emit(data, as_json, (
        f"\n  Frontdesk is ready. Open {data['url']}\n"
        f"  and sign in as   {email}\n"
        f"  with password    {password}\n"
        f"  (your account page: {settings.issuer}/account, "
        f"discovery: {settings.issuer}/.well-known/openid-configuration)\n"))


def _register_user_pool_commands() -> None:
    """users export|import and groups ... live in app/admin/cli.py."""
    from app.admin.cli import export_command, groups_group, import_command

    users_group.add_command(export_command)
    users_group.add_command(import_command)
    main.add_command(groups_group)


_register_user_pool_commands()


main.add_command(hash_calibrate_command)
main.add_command(cognito_group)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
