"""Google played by a third-party, OpenID Certified provider: panva's node oidc-provider
(bench/reference/server.js, installed from its lock file) on 127.0.0.1, reached only through
FRONTDESK_GOOGLE_DISCOVERY_URL. It keeps email in userinfo (not in the code-flow ID token),
sends `iss` in the authorization response (RFC 9207) and requires PKCE."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import time
from html import unescape
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from app.extensions import db
from app.models import FederatedIdentity, User
from tests.conftest import make_app
from tests.federation.flows import begin_authorization, exchange_code, follow_to_app
from tests.live import free_port

REFERENCE = Path(__file__).resolve().parents[2] / "bench" / "reference"
MAIN = "http://127.0.0.1:5000"
ACCOUNT = {"sub": "op-" + secrets.token_hex(8), "email": "olga@example.org",
           "password": "olga's long password", "name": "Olga Provider"}
FORM_RE = re.compile(r'<form method="post" action="([^"]+)">(.*?)</form>', re.S)
HIDDEN_RE = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


@pytest.fixture(scope="module")
def oidc_provider(tmp_path_factory):
    if not (REFERENCE / "node_modules" / "oidc-provider").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=REFERENCE, check=True,
                       timeout=600)
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    client = {"client_id": "frontdesk-rp", "client_secret": secrets.token_urlsafe(32),
              "first_party": True, "client_name": "Frontdesk",
              "redirect_uris": [MAIN + "/federation/google/callback"],
              "grant_types": ["authorization_code"], "response_types": ["code"],
              "token_endpoint_auth_method": "client_secret_basic"}
    folder = tmp_path_factory.mktemp("oidc-provider")
    config = folder / "config.json"
    config.write_text(json.dumps({"issuer": issuer, "port": port, "clients": [client],
                                  "accounts": [ACCOUNT]}))
    log = (folder / "server.log").open("w")
    process = subprocess.Popen([shutil.which("node"), str(REFERENCE / "server.js"), str(config)],
                               cwd=REFERENCE, stdout=log, stderr=subprocess.STDOUT,
                               env=dict(os.environ, NODE_ENV="production"))
    try:
        _wait(issuer + "/.well-known/openid-configuration", process, folder / "server.log")
        yield {"issuer": issuer, **client}
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def _wait(url, process, log_path, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(log_path.read_text())
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"oidc-provider did not start:\n{log_path.read_text()}")


def sign_in_at_provider(url: str) -> str:
    """Follow the provider's redirects, fill its login form; returns the callback URL."""
    browser = requests.Session()
    response = browser.get(url, allow_redirects=False)
    for _ in range(10):
        if response.status_code in (302, 303):
            location = urljoin(response.url, response.headers["Location"])
            if location.startswith(MAIN):
                return location
            response = browser.get(location, allow_redirects=False)
            continue
        assert response.status_code == 200, response.text[:500]
        action, body = FORM_RE.search(response.text).groups()
        fields = {unescape(k): unescape(v) for k, v in HIDDEN_RE.findall(body)}
        fields.update(email=ACCOUNT["email"], password=ACCOUNT["password"])
        response = browser.post(urljoin(response.url, unescape(action)), data=fields,
                                allow_redirects=False)
    raise AssertionError("the provider never sent the browser back")


def test_login_through_a_certified_provider(tmp_path, postgres_schema, oidc_provider):
    from app.oauth.clients import create_client

    app = make_app(tmp_path, postgres_schema, google_client_id=oidc_provider["client_id"],
                   google_client_secret=oidc_provider["client_secret"],
                   google_discovery_url=oidc_provider["issuer"]
                   + "/.well-known/openid-configuration")
    try:
        with app.app_context():
            new = create_client(name="Demo", redirect_uris=["http://127.0.0.1:9999/cb"],
                                is_first_party=True)
            db.session.commit()
            rp = {"client_id": new.client.client_id, "client_secret": new.client_secret,
                  "redirect_uri": "http://127.0.0.1:9999/cb"}
        client = app.test_client()
        req, ix = begin_authorization(client, rp)
        start = client.get(f"/federation/google/start?interaction={ix}")
        assert start.location.startswith(oidc_provider["issuer"])
        back = urlsplit(sign_in_at_provider(start.location))
        assert "iss=" in back.query  # RFC 9207, checked against discovery by Frontdesk
        response = client.get(f"{back.path}?{back.query}")
        params = follow_to_app(client, response, req.redirect_uri)
        _, claims = exchange_code(client, rp, req, params["code"])
        assert claims["amr"] == ["fed"] and claims["email"] == ACCOUNT["email"]
        with app.app_context():
            [user] = db.session.scalars(db.select(User))
            [identity] = db.session.scalars(db.select(FederatedIdentity))
            assert user.email == ACCOUNT["email"] and user.email_verified
            assert user.attributes.get("name") == ACCOUNT["name"]  # from userinfo
            assert (identity.provider, identity.subject) == ("google", ACCOUNT["sub"])
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
