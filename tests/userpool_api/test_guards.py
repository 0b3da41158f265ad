"""The hosted pages' guarantees on the pool API: the per-IP budget
(TooManyRequestsException), the account lockout (a locked account refuses even the right
password, by the same message), and a store outage answered 503 with Retry-After."""

from __future__ import annotations

import json

import pytest
import requests

from tests.live import start_private_redis, start_server
from tests.userpool_api.conftest import PASSWORD, error_of, make_client

SERVER_OVERRIDES = {"ip_max_requests_per_minute": "6", "login_max_failures": "3"}
TARGET = "AWSCognitoIdentityProviderService."


def test_lockout_then_ip_budget(server, cognito):
    client_id = make_client(server, "USER_PASSWORD_AUTH")["client_id"]
    server.cli("users", "create", "--email", "locked@example.com", "--password", PASSWORD,
               "--verified", "--json")
    auth = {"USERNAME": "locked@example.com", "PASSWORD": "wrong"}
    for _ in range(3):
        with pytest.raises(cognito.exceptions.NotAuthorizedException):
            cognito.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                  AuthParameters=auth)
    with pytest.raises(cognito.exceptions.NotAuthorizedException) as caught:
        cognito.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                              AuthParameters={**auth, "PASSWORD": PASSWORD})
    assert error_of(caught)[1] == "Incorrect username or password."
    statuses = []
    for _ in range(4):
        try:
            cognito.forgot_password(ClientId=client_id, Username="locked@example.com")
            statuses.append("ok")
        except cognito.exceptions.TooManyRequestsException:
            statuses.append("throttled")
    assert statuses[0] == "ok" and statuses[-1] == "throttled"  # 4 sign-ins + 4 mails > 6


def test_store_outage_is_a_503_with_retry_after(tmp_path):
    redis_server = start_private_redis(tmp_path)
    server = None
    try:
        server = start_server(tmp_path, redis_url=redis_server.url)
        pool = json.loads(server.cli("cognito", "info", "--json").stdout)
        server.extra["pool"] = pool
        client_id = make_client(server, "USER_PASSWORD_AUTH")["client_id"]
        body = json.dumps({"ClientId": client_id, "AuthFlow": "USER_PASSWORD_AUTH",
                           "AuthParameters": {"USERNAME": "a@example.com",
                                              "PASSWORD": PASSWORD}})
        headers = {"X-Amz-Target": TARGET + "InitiateAuth",
                   "Content-Type": "application/x-amz-json-1.1"}
        redis_server.stop()
        answer = requests.post(pool["endpoint"], data=body, headers=headers, timeout=30)
        assert answer.status_code == 503, answer.text
        assert answer.headers["Retry-After"] == "5"
        assert answer.json()["__type"] == "InternalErrorException"
    finally:
        if server is not None:
            server.stop()
        redis_server.stop()
