"""Malformed requests to every public action get a 400 the SDKs can read, never a 500:
missing members, members of the wrong JSON type, strings where objects belong."""

from __future__ import annotations

import json

import pytest
import requests

from app.userpool_api.admin import ADMIN_ACTIONS
from app.userpool_api.protocol import PUBLIC_ACTIONS
from tests.userpool_api.test_admin_actions import WRITE, new_key, signed_post

TARGET = "AWSCognitoIdentityProviderService."
MEMBERS = ("Username", "Password", "AccessToken", "Session", "AuthFlow", "AuthParameters",
           "ChallengeName", "ChallengeResponses", "UserAttributes", "ConfirmationCode",
           "RefreshToken", "Token", "UserCode", "SoftwareTokenMfaSettings", "SecretHash",
           "PreviousPassword", "ProposedPassword", "ClientSecret")


def bodies(client_id: str) -> list:
    return [
        {}, [], "text", {"ClientId": 5}, {"ClientId": "x" * 500},
        {"ClientId": client_id, **{m: 5 for m in MEMBERS}},
        {"ClientId": client_id, **{m: ["a"] for m in MEMBERS}},
        {"ClientId": client_id, **{m: {"a": 1} for m in MEMBERS}},
        {"ClientId": client_id, **{m: "" for m in MEMBERS}},
        {"ClientId": client_id, "AuthFlow": "USER_SRP_AUTH",
         "AuthParameters": {"USERNAME": "a@example.com", "SRP_A": "zz"}},
        {"ClientId": client_id, "AuthFlow": "USER_SRP_AUTH",
         "AuthParameters": {"USERNAME": "a@example.com", "SRP_A": "0"}},
        {"ClientId": client_id, "ChallengeName": "PASSWORD_VERIFIER",
         "ChallengeResponses": {"PASSWORD_CLAIM_SECRET_BLOCK": "!!"}},
        {"ClientId": client_id, "AuthFlow": "USER_PASSWORD_AUTH",
         "AuthParameters": {"USERNAME": 5, "PASSWORD": None}},
        {"ClientId": client_id, "AuthFlow": "REFRESH_TOKEN_AUTH", "AuthParameters": {}},
        {"ClientId": client_id, "ChallengeName": "SOFTWARE_TOKEN_MFA", "Session": 5,
         "ChallengeResponses": {"SOFTWARE_TOKEN_MFA_CODE": "1"}},
        {"ClientId": client_id, "ChallengeName": "MFA_SETUP", "Session": "s" * 64},
        {"ClientId": client_id, "Username": "a@example.com", "ConfirmationCode": "1",
         "Password": "x", "UserAttributes": [{"Name": 1}]},
        {"ClientId": client_id, "Username": "a@example.com", "Password": "x" * 300},
    ]


@pytest.mark.parametrize("action", sorted(PUBLIC_ACTIONS))
def test_malformed_bodies_are_refused_with_a_named_error(server, app_client, action):
    endpoint = server.extra["pool"]["endpoint"]
    for body in bodies(app_client["client_id"]):
        answer = requests.post(endpoint, data=json.dumps(body), timeout=10,
                               headers={"X-Amz-Target": TARGET + action,
                                        "Content-Type": "application/x-amz-json-1.1"})
        assert answer.status_code in (200, 400), (action, body, answer.status_code,
                                                  answer.text)
        if answer.status_code == 400:  # 200: a valid request (unknown members are ignored)
            assert answer.json()["__type"].endswith("Exception"), (action, body, answer.text)
    assert "Traceback" not in server.log()


@pytest.mark.parametrize("action", sorted(ADMIN_ACTIONS))
def test_malformed_signed_admin_bodies_are_refused_with_a_named_error(server, app_client,
                                                                      action):
    key = new_key(server, *WRITE)
    pool_id = server.extra["pool"]["user_pool_id"]
    for index, body in enumerate(bodies(app_client["client_id"])[3:]):
        body = {**body, "UserPoolId": pool_id, "GroupName": [index], "Filter": index,
                "Limit": "many", "Precedence": "first", "Permanent": "yes"}
        answer = signed_post(server, key, action, body)
        assert answer.status_code in (200, 400), (action, body, answer.text)
        if answer.status_code == 400:
            assert answer.json()["__type"].endswith("Exception"), (action, body, answer.text)
    assert "Traceback" not in server.log()
