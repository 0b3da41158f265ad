"""Start and stop the servers the bench measures, on 127.0.0.1 only.

Frontdesk: a temporary instance (production: a fresh PostgreSQL database + a Redis prefix;
embedded: the defaults, SQLite + the SQL store) seeded through the `frontdesk` CLI, then served
by gunicorn (sync or gthread) or granian. Reference: node oidc-provider from bench/reference.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from bench import hashmeter, oidc
from bench.driver import Target

ROOT = Path(__file__).resolve().parent.parent
REFERENCE_DIR = Path(__file__).resolve().parent / "reference"
# Production mode: a fresh database is created beside this one; Redis keys get a prefix.
POSTGRES_URL = os.environ.get("BENCH_DATABASE_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/2")
CLIENT_ID = "bench-web"
PASSWORD = "bench-Password-1"  # noqa: S105 - a throwaway account on a throwaway instance
# The production app with the password hash's CPU metered in the server (bench/hashmeter.py);
# the entries below meter it when BENCH_HASH_METER_DIR is set, which start_frontdesk does.
METERED_APP = "bench.metered_wsgi:app"
METERED_APPS = (METERED_APP, "bench.variant_wsgi:app")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 - 127.0.0.1
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} not ready after {timeout}s:\n{log.read_text()[-3000:]}")


def stop_process(process: subprocess.Popen | None, timeout: float = 15) -> None:
    """SIGTERM (gunicorn and granian stop their workers gracefully), then SIGKILL."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def fresh_database(name: str, base_url: str | None = None) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base_url = base_url or POSTGRES_URL
    engine = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    engine = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def remove_leftovers() -> tuple[list[str], int]:
    """Drop every bench database (`frontdesk_bench_*`, the scale run's included) and every
    `fdbench:` key: what a run that was killed leaves behind. Never while a bench runs."""
    from sqlalchemy import create_engine, text

    engine = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        names = list(conn.execute(text(
            "SELECT datname FROM pg_database WHERE datname LIKE 'frontdesk\\_bench\\_%'"
        )).scalars())
        for name in names:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()
    return names, flush_redis_prefix(REDIS_URL, "fdbench:")


def flush_redis_prefix(url: str, prefix: str) -> int:
    """Delete every key under `prefix`; returns how many there were."""
    import redis

    client = redis.Redis.from_url(url)
    batch = list(client.scan_iter(match=prefix + "*", count=5000))
    for start in range(0, len(batch), 5000):
        client.delete(*batch[start:start + 5000])
    client.close()
    return len(batch)


# --- Frontdesk ----------------------------------------------------------------------------


@dataclass
class ServeSpec:
    """How to serve the WSGI app: gunicorn sync/gthread or granian, N workers x T threads."""

    server: str = "gunicorn"  # gunicorn | granian
    workers: int = 2
    worker_class: str = "sync"  # sync | gthread (gunicorn only)
    threads: int = 1
    app: str = "wsgi:app"

    @property
    def label(self) -> str:
        if self.server == "granian":
            return f"granian w{self.workers} t{self.threads}"
        kind = self.worker_class if self.worker_class == "sync" else f"gthread t{self.threads}"
        return f"gunicorn {kind} w{self.workers}"

    def command(self, port: int) -> list[str]:
        bindir = Path(sys.executable).parent
        if self.server == "granian":
            return [str(bindir / "granian"), "--interface", "wsgi", "--host", "127.0.0.1",
                    "--port", str(port), "--workers", str(self.workers),
                    "--blocking-threads", str(self.threads), "--no-ws", "--log-level", "warning",
                    self.app]
        return [str(bindir / "gunicorn"), "--bind", f"127.0.0.1:{port}",
                "--workers", str(self.workers), "--worker-class", self.worker_class,
                "--threads", str(self.threads), "--keep-alive", "5", "--timeout", "30",
                "--graceful-timeout", "10", "--log-level", "warning", self.app]


@dataclass
class FrontdeskInstance:
    """A seeded instance; servers of any shape can be started on it, one after the other."""

    mode: str  # production | embedded
    directory: Path
    port: int
    env: dict[str, str]
    accounts: list[oidc.Account] = field(default_factory=list)
    client_secret: str = ""
    database_url: str | None = None
    redis_prefix: str | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "app.cli", *args], env=self.env, cwd=ROOT,
                              capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"frontdesk {' '.join(args[:2])} failed: {done.stderr[-2000:]}")
        return done.stdout

    def cleanup(self, keep_database: bool = False) -> None:
        """Flush the Redis prefix and drop the bench database (servers must be stopped)."""
        if self.redis_prefix:
            flush_redis_prefix(self.env["FRONTDESK_REDIS_URL"], self.redis_prefix)
        if self.database_url and not keep_database:
            drop_database(self.database_url)


def instance_env(mode: str, directory: Path, port: int, database_url: str | None,
                 redis_prefix: str | None, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDESK_")}
    env.update({
        "FRONTDESK_ISSUER": f"http://127.0.0.1:{port}",
        "FRONTDESK_INSTANCE_PATH": str(directory),
        "FRONTDESK_MAIL_BACKEND": "file",
        "FRONTDESK_MAIL_OUTBOX": str(directory / "outbox"),
        # The bench posts the login form hundreds of times a minute from one IP.
        "FRONTDESK_IP_MAX_REQUESTS_PER_MINUTE": "100000000",
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    if mode == "production":
        env.update({"FRONTDESK_ENV": "production", "FRONTDESK_DATABASE_URL": database_url,
                    "FRONTDESK_REDIS_URL": REDIS_URL, "FRONTDESK_REDIS_PREFIX": redis_prefix,
                    "FRONTDESK_SECRET_KEY": secrets.token_urlsafe(48)})
    env.update(extra)
    return env


def prepare_frontdesk(mode: str, workdir: Path, accounts: int = 4,
                      database_name: str | None = None, extra_env: dict | None = None,
                      database_url: str | None = None) -> FrontdeskInstance:
    """Create, migrate and seed an instance (one client, `accounts` users) via the CLI."""
    port = free_port()
    directory = workdir / f"frontdesk-{mode}-{port}"
    directory.mkdir(parents=True)
    db_url = prefix = None
    if mode == "production":
        db_url = database_url or fresh_database(database_name or f"frontdesk_bench_{port}")
        prefix = f"fdbench:{port}:"
        flush_redis_prefix(REDIS_URL, prefix)
    env = instance_env(mode, directory, port, db_url, prefix, extra_env or {})
    inst = FrontdeskInstance(mode, directory, port, env, database_url=db_url,
                             redis_prefix=prefix, client_secret=secrets.token_urlsafe(32))
    inst.cli("db", "upgrade")
    seed_frontdesk(inst, accounts)
    return inst


def seed_frontdesk(inst: FrontdeskInstance, accounts: int) -> None:
    inst.cli("clients", "create", "--name", "Bench web", "--client-id", CLIENT_ID,
             "--client-secret", inst.client_secret, "--first-party",
             "--redirect-uri", f"{inst.issuer}/bench/callback",
             "--grant-type", "authorization_code", "--grant-type", "refresh_token",
             "--grant-type", "client_credentials", "--json")
    for n in range(accounts):
        email = f"bench{n}@example.com"
        inst.cli("users", "create", "--email", email, "--password", PASSWORD, "--verified",
                 "--json")
        inst.accounts.append(oidc.Account(email, PASSWORD))


@dataclass
class RunningServer:
    target: Target
    process: subprocess.Popen
    log: Path

    def stop(self) -> None:
        stop_process(self.process)


def start_frontdesk(inst: FrontdeskInstance, spec: ServeSpec, name: str | None = None,
                    extra_env: dict | None = None) -> RunningServer:
    log = inst.directory / f"server-{spec.label.replace(' ', '-')}.log"
    env = dict(inst.env, **(extra_env or {}))
    meter_dir = None
    if spec.app in METERED_APPS:  # a fresh directory per server: one file per worker pid
        meter_dir = Path(tempfile.mkdtemp(prefix="hash-meter-", dir=inst.directory))
        env[hashmeter.ENV] = str(meter_dir)
    with log.open("w") as out:
        process = subprocess.Popen(spec.command(inst.port), env=env, cwd=ROOT, stdout=out,
                                   stderr=subprocess.STDOUT)
    try:
        wait_http(inst.issuer + "/readyz", process, log)
    except RuntimeError:
        stop_process(process)
        raise
    rp = oidc.Relying(inst.issuer, CLIENT_ID, inst.client_secret, f"{inst.issuer}/bench/callback")
    settings = {"server": spec.label, "mode": inst.mode,
                "argon2": f"m={env.get('FRONTDESK_ARGON2_MEMORY_KIB', 19456)} "
                          f"t={env.get('FRONTDESK_ARGON2_TIME_COST', 2)} p=1"}
    target = Target(name or f"frontdesk-{inst.mode}", rp, inst.accounts, process.pid,
                    "frontdesk", settings,
                    backend_pids=postgres_backends(inst.database_url) if inst.database_url
                    else None, hash_meter_dir=meter_dir)
    return RunningServer(target, process, log)


def postgres_backends(database_url: str):
    """A function listing the PostgreSQL backend pids connected to this database: their CPU
    is the database's share of each operation (the postmaster is not in gunicorn's tree)."""
    import psycopg
    from sqlalchemy.engine import make_url

    name = make_url(database_url).database
    dsn = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://", 1)

    def backends() -> list[int]:
        with psycopg.connect(dsn, autocommit=True) as conn:
            return [row[0] for row in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> "
                "pg_backend_pid()", [name])]
    return backends


# --- reference ----------------------------------------------------------------------------


def reference_ready() -> bool:
    return shutil.which("node") is not None and (REFERENCE_DIR / "node_modules"
                                                 / "oidc-provider").is_dir()


def install_reference() -> None:
    """`npm ci` from the committed lock file (node_modules is not in git)."""
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=REFERENCE_DIR, check=True,
                   timeout=600)


def start_reference(workdir: Path, accounts: int = 4) -> RunningServer:
    if not reference_ready():
        install_reference()
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    secret = secrets.token_urlsafe(32)
    redirect = f"{issuer}/bench/callback"
    users = [oidc.Account(f"bench{n}@example.com", PASSWORD) for n in range(accounts)]
    config = {
        "issuer": issuer, "port": port,
        "clients": [{"client_id": CLIENT_ID, "client_secret": secret, "first_party": True,
                     "client_name": "Bench web", "redirect_uris": [redirect],
                     "grant_types": ["authorization_code", "refresh_token",
                                     "client_credentials"],
                     "response_types": ["code"],
                     "token_endpoint_auth_method": "client_secret_basic"}],
        "accounts": [{"sub": secrets.token_hex(16), "email": a.email, "password": a.password,
                      "name": f"Bench {n}"} for n, a in enumerate(users)],
    }
    directory = workdir / f"reference-{port}"
    directory.mkdir(parents=True)
    (directory / "config.json").write_text(json.dumps(config))
    log = directory / "server.log"
    env = dict(os.environ, NODE_ENV="production")
    with log.open("w") as out:
        process = subprocess.Popen(["node", str(REFERENCE_DIR / "server.js"),
                                    str(directory / "config.json")], env=env, cwd=REFERENCE_DIR,
                                   stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_http(issuer + "/.well-known/openid-configuration", process, log)
    except RuntimeError:
        stop_process(process)
        raise
    rp = oidc.Relying(issuer, CLIENT_ID, secret, redirect)
    target = Target("oidc-provider", rp, users, process.pid, "reference",
                    {"server": "node " + subprocess.run(["node", "--version"], text=True,
                                                        capture_output=True).stdout.strip(),
                     "adapter": "memory"})
    return RunningServer(target, process, log)
