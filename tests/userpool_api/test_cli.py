"""`frontdesk cognito info|keys create` and `clients create --auth-flow`: one JSON object
each, wrong input refused with nothing written, secrets kept sealed."""

from __future__ import annotations

import json
import re

from app.cli import main
from app.extensions import db, frontdesk_state
from app.models import PoolAccessKey, PoolClient


def test_info_gives_a_pool_id_the_sdks_accept(app, runner):
    result = runner.invoke(main, ["cognito", "info", "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    issuer = frontdesk_state(app).settings.issuer
    assert info["endpoint"] == issuer + "/cognito"
    assert re.fullmatch(r"us-east-1_[0-9A-Za-z]{9}", info["user_pool_id"])
    assert info["region"] == "us-east-1"
    again = json.loads(runner.invoke(main, ["cognito", "info", "--json"]).output)
    assert again == info  # fixed: derived from the secret key


def test_keys_create_shows_the_secret_once_and_keeps_it_sealed(app, runner):
    refused = runner.invoke(main, ["cognito", "keys", "create", "--scope", "admin:clients"])
    assert refused.exit_code != 0
    result = runner.invoke(main, ["cognito", "keys", "create", "--scope", "admin:users:read",
                                 "--name", "reports", "--json"])
    assert result.exit_code == 0, result.output
    key = json.loads(result.output)
    assert key["scopes"] == ["admin:users:read"] and len(key["secret_access_key"]) >= 40
    with app.app_context():
        row = db.session.get(PoolAccessKey, key["access_key_id"])
        assert row.name == "reports" and key["secret_access_key"] not in row.secret_sealed


def test_clients_create_with_auth_flows(app, runner):
    bad = runner.invoke(main, ["clients", "create", "--name", "X", "--redirect-uri",
                              "https://app.example/cb", "--auth-flow", "MAGIC", "--json"])
    assert bad.exit_code == 1 and "unknown auth flow" in bad.output
    with app.app_context():
        assert db.session.scalars(db.select(PoolClient)).all() == []
    good = runner.invoke(main, ["clients", "create", "--name", "Y", "--redirect-uri",
                               "https://app.example/cb", "--auth-flow", "ALLOW_USER_SRP_AUTH",
                               "--auth-flow", "REFRESH_TOKEN", "--json"])
    created = json.loads(good.output)
    assert created["auth_flows"] == ["USER_SRP_AUTH", "REFRESH_TOKEN_AUTH"]
    with app.app_context():
        row = db.session.get(PoolClient, created["client_id"])
        assert row.auth_flows == ["USER_SRP_AUTH", "REFRESH_TOKEN_AUTH"]
        assert row.secret_sealed and created["client_secret"] not in row.secret_sealed
