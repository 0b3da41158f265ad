"""`frontdesk serve`: the production server (granian) as an operator starts it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from html import unescape

import pytest
import requests

from app.cli import default_serve_port, granian_command, main
from tests.conftest import PASSWORD
from tests.hosted.helpers import CSRF_RE
from tests.live import ROOT, start_server


def test_granian_command_line():
    command = granian_command("127.0.0.1", 8123, 3, 300)
    assert command[0].endswith("/granian") and command[-1] == "wsgi:app"
    joined = " ".join(command)
    assert "--workers 3" in joined and "--blocking-threads 1" in joined
    assert "--port 8123" in joined and "--workers-max-rss 300" in joined
    assert "--respawn-failed-workers" in joined and "--interface wsgi" in joined
    assert command[command.index("--host") + 1] == "127.0.0.1"


def test_the_served_app_freezes_its_start_up_heap(tmp_path):
    """wsgi.py, which granian and gunicorn import, moves the objects of the built app out of
    the garbage collector's walks (app/heap.py), and leaves nothing young behind."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDESK_")}
    env["FRONTDESK_INSTANCE_PATH"] = str(tmp_path)
    probe = "import gc, wsgi; print(gc.get_freeze_count(), gc.get_count()[2])"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=True)
    frozen, oldest = (int(n) for n in done.stdout.split())
    assert frozen > 50_000 and oldest == 0


@pytest.mark.parametrize(("issuer", "port"), [
    ("http://127.0.0.1:9100", 9100),
    ("http://localhost:5000", 5000),
    ("http://[::1]:7000", 7000),
    ("http://127.0.0.1", 8000),
    ("https://id.example.com", 8000),
    ("https://id.example.com:8443", 8000),
])
def test_default_serve_port_follows_a_loopback_issuer_only(issuer, port):
    assert default_serve_port(issuer) == port


def test_serve_refuses_a_bad_worker_count(runner, monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "lots")
    result = runner.invoke(main, ["serve"])
    assert result.exit_code == 1
    assert "WEB_CONCURRENCY must be a whole number of workers, not 'lots'" in result.output
    monkeypatch.delenv("WEB_CONCURRENCY")
    assert runner.invoke(main, ["serve", "--workers", "0"]).exit_code == 2


def test_serve_migrates_and_serves_behind_a_local_proxy(tmp_path):
    """On an empty database: migrations and signing keys first, then two granian workers that
    answer the protocol and the hosted pages, and believe X-Forwarded-For from loopback.
    No --port: a loopback issuer's own port is the one served."""
    server = start_server(tmp_path, command=("serve", "--workers", "2"), pass_port=False,
                          ip_max_requests_per_minute="1")
    try:
        assert "granian worker(s)" in server.log()
        created = server.cli("clients", "create", "--name", "Machine", "--grant-type",
                             "client_credentials", "--json")
        client = json.loads(created.stdout)
        discovery = requests.get(server.url + "/.well-known/openid-configuration",
                                 timeout=10).json()
        assert discovery["issuer"] == server.url
        jwks = requests.get(discovery["jwks_uri"], timeout=10).json()
        assert jwks["keys"], "serve created the signing keys"
        token = requests.post(discovery["token_endpoint"], timeout=10,
                              data={"grant_type": "client_credentials"},
                              auth=(client["client_id"], client["client_secret"]))
        assert token.status_code == 200 and token.json()["token_type"] == "Bearer"
        wrong = requests.post(discovery["token_endpoint"], timeout=10,
                              data={"grant_type": "client_credentials"},
                              auth=(client["client_id"], "not-the-secret"))
        assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"

        def attempt(session: requests.Session, user_ip: str) -> int:
            headers = {"X-Forwarded-For": user_ip}
            page = session.get(f"{server.url}/login", headers=headers, timeout=10)
            token = unescape(CSRF_RE.search(page.text).group(1))
            return session.post(f"{server.url}/login", headers=headers, timeout=10, data={
                "csrf_token": token, "email": "nobody@example.com",
                "password": PASSWORD}).status_code

        first = requests.Session()
        assert attempt(first, "203.0.113.1") == 200
        assert attempt(first, "203.0.113.1") == 429
        assert attempt(requests.Session(), "203.0.113.2") == 200
    finally:
        server.stop()
