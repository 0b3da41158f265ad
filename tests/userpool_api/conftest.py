"""One live Frontdesk server per test module (tests/live.py), app clients made with the CLI,
and boto3's cognito-idp client pointed at the server's user-pool endpoint."""

from __future__ import annotations

import json
import re
from email import policy
from email.parser import BytesParser

import boto3
import pyotp
import pytest
from botocore.config import Config

from tests.live import start_server

PASSWORD = "Tangerine-Harbour-42"
SERVER_SETTINGS = {"ip_max_requests_per_minute": "10000", "mail_cooldown_seconds": "1"}
CODE_RE = re.compile(r"\b(\d{6})\b")


@pytest.fixture(scope="module")
def server(tmp_path_factory, request):
    settings = {**SERVER_SETTINGS, **getattr(request.module, "SERVER_OVERRIDES", {})}
    live = start_server(tmp_path_factory.mktemp("userpool"), **settings)
    try:
        live.extra["pool"] = json.loads(live.cli("cognito", "info", "--json").stdout)
        yield live
    finally:
        live.stop()


def make_client(server, *flows: str, public: bool = True, name: str = "App",
                redirect_uri: str = "http://127.0.0.1:3000/") -> dict:
    args = ["clients", "create", "--name", name, "--redirect-uri", redirect_uri, "--json",
            "--grant-type", "authorization_code", "--grant-type", "refresh_token"]
    args += ["--public"] if public else []
    for flow in flows:
        args += ["--auth-flow", flow]
    return json.loads(server.cli(*args).stdout)


@pytest.fixture(scope="module")
def app_client(server) -> dict:
    return make_client(server, "USER_PASSWORD_AUTH", "USER_SRP_AUTH", "REFRESH_TOKEN_AUTH")


def idp(server, **credentials):
    """boto3's cognito-idp client, unchanged but for endpoint_url (and keys, if given)."""
    pool = server.extra["pool"]
    return boto3.client(
        "cognito-idp", region_name=pool["region"], endpoint_url=pool["endpoint"],
        aws_access_key_id=credentials.get("access_key_id", "unused"),
        aws_secret_access_key=credentials.get("secret_access_key", "unused"),
        config=Config(retries={"max_attempts": 1, "mode": "standard"}))


@pytest.fixture(scope="module")
def cognito(server):
    return idp(server)


def mails_to(server, address: str) -> list:
    folder = server.instance / "outbox"
    files = sorted(folder.glob("*.eml")) if folder.is_dir() else []
    found = [BytesParser(policy=policy.default).parsebytes(f.read_bytes()) for f in files]
    return [m for m in found if m["To"] == address]


def last_code(server, address: str) -> str:
    messages = mails_to(server, address)
    assert messages, f"no mail to {address}"
    text = messages[-1].get_body(("plain",)).get_content()
    match = CODE_RE.search(text)
    assert match, text
    return match.group(1)


def totp_now(secret: str, steps_ahead: int = 0) -> str:
    import time

    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


def error_of(excinfo) -> tuple[str, str]:
    """(code, message) of a botocore ClientError, as an app sees it."""
    error = excinfo.value.response["Error"]
    return error["Code"], error["Message"]
