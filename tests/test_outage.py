"""The server keeps serving when Redis or PostgreSQL goes away and recovers when they return,
without a restart; several processes on one PostgreSQL + Redis share data and sessions.

Outages use private servers (a redis-server and a PostgreSQL cluster of our own, on free
ports): the shared services on the standard ports are never stopped.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
import uuid

import pytest
import requests

from tests.conftest import STORE_REDIS_URL
from tests.live import (
    ROOT,
    LiveServer,
    drop_database,
    free_port,
    fresh_database,
    server_env,
    start_private_postgres,
    start_private_redis,
    start_server,
    wait_until_ready,
)
from tests.test_migrations import ADMIN_DATABASE_URL

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def readiness(server) -> tuple[int, dict]:
    response = requests.get(server.url + "/readyz", timeout=15)
    return response.status_code, response.json()


def wait_readiness(server, status: int, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        code, body = readiness(server)
        if code == status:
            return body
        assert time.monotonic() < deadline, f"/readyz stayed {code}: {body}"
        time.sleep(0.3)


def healthz(server) -> int:
    return requests.get(server.url + "/healthz", timeout=15).status_code


def csrf_token(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no csrf_token input on the page"
    return match.group(1) or match.group(2)


@pytest.fixture
def servers():
    started = []
    yield started
    for server in started:
        server.stop()


def test_redis_outage_and_recovery(tmp_path, servers):
    redis_server = start_private_redis(tmp_path)
    try:
        server = start_server(tmp_path, redis_url=redis_server.url)
        servers.append(server)
        pid = server.process.pid
        assert readiness(server) == (200, {"status": "ok", "down": [],
                                           "checks": {"database": "ok", "store": "ok"}})
        # Request lines reach the log, with secrets redacted.
        requests.get(server.url + "/healthz?code=SECRETCODE123&state=visible", timeout=15)
        assert "/healthz?code=[redacted]&state=visible" in server.log()
        assert "SECRETCODE123" not in server.log()

        redis_server.stop()
        body = wait_readiness(server, 503)
        assert body["down"] == ["store"]
        assert body["checks"] == {"database": "ok", "store": "down"}
        assert healthz(server) == 200
        page = requests.get(server.url + "/login", timeout=15)  # needs the session
        assert page.status_code == 503
        assert requests.get(server.url + "/.well-known/openid-configuration",
                            timeout=15).status_code == 200  # no session, no store

        redis_server.start()  # same port, fresh and empty
        wait_readiness(server, 200)
        assert requests.get(server.url + "/login", timeout=15).status_code == 200
        assert server.process.pid == pid and server.process.poll() is None
    finally:
        redis_server.stop()


def test_postgres_outage_and_recovery(tmp_path, servers):
    cluster = start_private_postgres()
    try:
        server = start_server(tmp_path, database_url=cluster.url, redis_url=STORE_REDIS_URL,
                              redis_prefix=f"fdoutage:{uuid.uuid4().hex}:")
        servers.append(server)
        pid = server.process.pid
        server.cli("users", "create", "--email", "kept@example.com", "--password",
                   "a long password", "--json")
        assert readiness(server)[0] == 200

        cluster.stop()
        body = wait_readiness(server, 503)
        assert body["down"] == ["database"]
        assert healthz(server) == 200
        assert requests.get(server.url + "/.well-known/jwks.json", timeout=15).status_code in (
            200, 503)  # prebuilt bytes or a clean 503, never a 500

        cluster.start()
        wait_readiness(server, 200)
        assert server.process.pid == pid and server.process.poll() is None
        shown = server.cli("users", "show", "kept@example.com", "--json")
        assert '"kept@example.com"' in shown.stdout
    finally:
        cluster.remove()


def test_embedded_store_outage_names_both(tmp_path, servers):
    """Without Redis the store lives in the database: losing it takes both down."""
    cluster = start_private_postgres()
    try:
        server = start_server(tmp_path, database_url=cluster.url, redis_url="")
        servers.append(server)
        cluster.stop()
        assert wait_readiness(server, 503)["down"] == ["database", "store"]
        assert healthz(server) == 200
        cluster.start()
        wait_readiness(server, 200)
    finally:
        cluster.remove()


def test_two_processes_share_data_and_sessions(tmp_path, servers, request):
    database = fresh_database(f"frontdesk_shared_{uuid.uuid4().hex[:12]}", ADMIN_DATABASE_URL)
    request.addfinalizer(lambda: drop_database(database, ADMIN_DATABASE_URL))
    shared = {"database_url": database, "redis_url": STORE_REDIS_URL,
              "redis_prefix": f"fdshared:{uuid.uuid4().hex}:"}
    one = start_server(tmp_path, **shared)
    servers.append(one)
    two = start_server(tmp_path, **shared)
    servers.append(two)

    # Data written through one process is there for the other.
    one.cli("users", "create", "--email", "shared@example.com", "--password",
            "a long password", "--verified", "--json")
    assert '"shared@example.com"' in two.cli("users", "show", "shared@example.com",
                                              "--json").stdout
    assert requests.get(one.url + "/.well-known/jwks.json", timeout=15).json() == \
        requests.get(two.url + "/.well-known/jwks.json", timeout=15).json()

    # A browser session begun on one process is honoured by the other (cookies are per
    # host, not per port): the CSRF token of a form served by `one` is accepted by `two`,
    # and the login made on `two` is seen by `one`.
    browser = requests.Session()
    token = csrf_token(browser.get(one.url + "/login", timeout=15).text)
    login = browser.post(two.url + "/login", data={
        "email": "shared@example.com", "password": "a long password", "csrf_token": token},
        allow_redirects=False, timeout=15)
    assert login.status_code in (302, 303), login.text[:500]
    account = browser.get(one.url + "/account", allow_redirects=False, timeout=15)
    assert account.status_code == 200
    assert "shared@example.com" in account.text

    # Signing out through one process ends the session for both.
    token = csrf_token(browser.get(one.url + "/logout", timeout=15).text)
    bye = browser.post(two.url + "/logout", data={"csrf_token": token},
                       allow_redirects=False, timeout=15)
    assert bye.status_code == 303
    assert browser.get(one.url + "/account", allow_redirects=False,
                       timeout=15).status_code in (302, 303)


def test_gunicorn_workers_serve_one_issuer(tmp_path, request):
    """The production recipe: gunicorn.conf.py migrates an empty database in the master,
    then several workers share sessions through the store."""
    port = free_port()
    instance = tmp_path / "gunicorn"
    instance.mkdir()
    env = server_env(instance, port, redis_url=STORE_REDIS_URL,
                     redis_prefix=f"fdgunicorn:{uuid.uuid4().hex}:")
    if "postgresql" in env.get("FRONTDESK_DATABASE_URL", ""):
        request.addfinalizer(lambda: drop_database(env["FRONTDESK_DATABASE_URL"]))
    log_path = instance / "gunicorn.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind",
             f"127.0.0.1:{port}", "--workers", "3", "wsgi:app"], cwd=ROOT, env=env,
            stdout=log, stderr=subprocess.STDOUT)
    server = LiveServer(url=f"http://127.0.0.1:{port}", instance=instance, env=env,
                        process=process, log_path=log_path)
    try:
        wait_until_ready(server)
        server.cli("users", "create", "--email", "g@example.com", "--password",
                   "a long password", "--verified", "--json")
        browser = requests.Session()
        token = csrf_token(browser.get(server.url + "/login", timeout=15).text)
        login = browser.post(server.url + "/login", data={
            "email": "g@example.com", "password": "a long password", "csrf_token": token},
            allow_redirects=False, timeout=15)
        assert login.status_code == 303
        for _ in range(12):  # whichever worker answers knows the session
            page = browser.get(server.url + "/account", allow_redirects=False, timeout=15)
            assert page.status_code == 200 and "g@example.com" in page.text
        requests.get(server.url + "/healthz?client_secret=SECRETCS9", timeout=15)
        time.sleep(0.5)
        assert "client_secret=[redacted]" in server.log()
        assert "SECRETCS9" not in server.log()
        assert "Running upgrade" in server.log()  # the master migrated the empty database
    finally:
        server.stop()
