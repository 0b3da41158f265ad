"""A real Frontdesk server process for interop, browser and federation tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    instance: Path
    env: dict[str, str]
    process: subprocess.Popen | None = None
    log_path: Path | None = None
    extra: dict = field(default_factory=dict)

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run `frontdesk ...` against this server's configuration."""
        return subprocess.run([sys.executable, "-m", "app.cli", *args], env=self.env,
                              cwd=ROOT, capture_output=True, text=True, check=check,
                              timeout=60)

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path and self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.extra.pop("owned_database", None):  # made by server_env for this server
            drop_database(self.env["FRONTDESK_DATABASE_URL"])


def server_env(instance: Path, port: int, **settings: str) -> dict[str, str]:
    """Environment for a server process: the test backends plus FRONTDESK_* overrides."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDESK_")}
    env.update({
        "FRONTDESK_ISSUER": f"http://127.0.0.1:{port}",
        "FRONTDESK_INSTANCE_PATH": str(instance),
        "FRONTDESK_SECRET_KEY": "live-test-secret-" + "y" * 32,
        "FRONTDESK_MAIL_BACKEND": "file",
        "FRONTDESK_MAIL_OUTBOX": str(instance / "outbox"),
    })
    if TEST_DATABASE_URL and "database_url" not in settings:
        env["FRONTDESK_DATABASE_URL"] = fresh_database(f"frontdesk_live_{port}")
    if TEST_REDIS_URL:
        env["FRONTDESK_REDIS_URL"] = TEST_REDIS_URL
        env["FRONTDESK_REDIS_PREFIX"] = f"fdlive:{port}:"
    env.update({f"FRONTDESK_{k.upper()}": str(v) for k, v in settings.items()})
    return env


def start_server(tmp_dir: Path, port: int | None = None, *, command: tuple[str, ...] = ("run",),
                 pass_port: bool = True, **settings: str) -> LiveServer:
    """Start `frontdesk run` (or another serving command; both migrate first) and wait
    until /readyz answers. Without pass_port the command finds its port in the issuer."""
    port = port or free_port()
    instance = tmp_dir / f"instance-{port}"
    instance.mkdir(parents=True, exist_ok=True)
    env = server_env(instance, port, **settings)
    server = LiveServer(url=f"http://127.0.0.1:{port}", instance=instance, env=env,
                        log_path=instance / "server.log")
    if TEST_DATABASE_URL and "database_url" not in settings:
        server.extra["owned_database"] = True
    if TEST_REDIS_URL:
        _flush_prefix(env["FRONTDESK_REDIS_PREFIX"])
    with server.log_path.open("w") as log:
        port_option = ("--port", str(port)) if pass_port else ()
        server.process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", *command, *port_option], env=env, cwd=ROOT,
            stdout=log, stderr=subprocess.STDOUT)
    wait_until_ready(server)
    return server


def wait_until_ready(server: LiveServer, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{server.log()}")
        try:
            if requests.get(server.url + "/readyz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"server did not become ready:\n{server.log()}")


def fresh_database(name: str, admin_url: str | None = None) -> str:
    """An empty PostgreSQL database beside the test one (live servers run the migrations).

    `admin_url` is a database to connect to for CREATE DATABASE (default: the test one).
    """
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin_url = admin_url or TEST_DATABASE_URL
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str, admin_url: str | None = None) -> None:
    """Drop a database made by fresh_database (closing whatever still uses it)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    engine = create_engine(admin_url or TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def _flush_prefix(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(TEST_REDIS_URL)
    keys = list(client.scan_iter(match=prefix + "*", count=1000))
    if keys:
        client.delete(*keys)


# --- private services for outage tests (never stop the shared ones) -------------------


def _wait_for(check, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not come up within {timeout} s")


@dataclass
class PrivateRedis:
    """A redis-server of our own on a free port, without persistence."""

    port: int
    workdir: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> PrivateRedis:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir), "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_for(self._answers, f"redis on port {self.port}")
        return self

    def _answers(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def start_private_redis(workdir: Path, port: int | None = None) -> PrivateRedis:
    return PrivateRedis(port or free_port(), workdir).start()


def _postgres_bin(name: str) -> str:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                      key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    if not versions:
        raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql")
    return str(versions[-1] / name)


def _as_postgres(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """PostgreSQL refuses to run as root: run its tools as the postgres user."""
    command = list(args)
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=True)


@dataclass
class PrivatePostgres:
    """A throwaway PostgreSQL cluster (initdb + pg_ctl) on a free port, trust auth."""

    port: int
    datadir: Path

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def init(self) -> PrivatePostgres:
        _as_postgres(_postgres_bin("initdb"), "-D", str(self.datadir), "-U", "postgres",
                     "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions")
        return self

    def start(self) -> PrivatePostgres:
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 "
                   f"-c unix_socket_directories={self.datadir} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off")
        _as_postgres(_postgres_bin("pg_ctl"), "-D", str(self.datadir), "-l",
                     str(self.datadir / "server.log"), "-o", options, "-w", "-t", "60", "start",
                     timeout=90)
        return self

    def stop(self) -> None:
        _as_postgres(_postgres_bin("pg_ctl"), "-D", str(self.datadir), "-m", "fast", "-w",
                     "stop")

    def running(self) -> bool:
        try:
            _as_postgres(_postgres_bin("pg_ctl"), "-D", str(self.datadir), "status")
        except subprocess.CalledProcessError:
            return False
        return True

    def remove(self) -> None:
        import shutil

        if self.datadir.exists() and self.running():
            self.stop()
        shutil.rmtree(self.datadir.parent, ignore_errors=True)


def start_private_postgres() -> PrivatePostgres:
    """initdb in a temp dir owned by postgres (pytest's tmp_path is not reachable for it)."""
    import shutil
    import tempfile

    parent = Path(tempfile.mkdtemp(prefix="frontdesk-pg-"))
    parent.chmod(0o755)
    datadir = parent / "data"
    datadir.mkdir(mode=0o700)
    if os.geteuid() == 0:
        shutil.chown(datadir, "postgres", "postgres")
    cluster = PrivatePostgres(free_port(), datadir)
    try:
        return cluster.init().start()
    except BaseException:
        cluster.remove()
        raise
