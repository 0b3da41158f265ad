"""openid-client 6 (Node, certified RP library) against a live server."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.interop.conftest import EMAIL, PASSWORD, REDIRECT_URI

HERE = Path(__file__).resolve().parent
pytestmark = pytest.mark.interop


def _node_modules() -> None:
    if not (HERE / "node_modules" / "openid-client").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True,
                       timeout=300, capture_output=True)


def test_openid_client_full_loop(live):
    _node_modules()
    env = dict(os.environ, ISSUER=live.url, CLIENT_ID=live.extra["client_id"],
               CLIENT_SECRET=live.extra["client_secret"], REDIRECT_URI=REDIRECT_URI,
               EMAIL=EMAIL, PASSWORD=PASSWORD)
    run = subprocess.run(["node", "openid_client_flow.mjs"], cwd=HERE, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr + "\n" + live.log()[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["iss"] == live.url and result["nonce_ok"] is True
    assert result["email"] == EMAIL and result["userinfo_sub"] == result["sub"]
    assert result["refreshed"] and result["rotated"]
    assert result["refreshed_sub"] == result["sub"]
    assert result["revoked_refresh_fails"] is True
