"""Triggers reach the pool API: a pre_sign_up trigger that confirms at once makes SignUp
answer UserConfirmed with the account's sub (and SRP works at once); the user_migration
trigger moves a legacy user at a USER_PASSWORD_AUTH sign-in, after which SRP works."""

from __future__ import annotations

import pytest

from tests.userpool_api.conftest import PASSWORD, make_client
from tests.userpool_api.test_public_actions import password_auth, pool_claims
from tests.userpool_api.test_srp import srp_sign_in

SERVER_OVERRIDES = {"trigger_pre_sign_up": "tests.hosted.triggers:auto_confirm",
                    "trigger_user_migration": "tests.hosted.triggers:migrate_legacy_user"}


def test_auto_confirmed_sign_up_answers_the_sub(server, cognito):
    client_id = make_client(server, "USER_PASSWORD_AUTH", "USER_SRP_AUTH")["client_id"]
    answer = cognito.sign_up(ClientId=client_id, Username="auto@example.com",
                             Password=PASSWORD, UserAttributes=[{"Name": "name",
                                                                 "Value": "Auto"}])
    assert answer["UserConfirmed"] is True
    tokens = srp_sign_in(server, cognito, client_id, "auto@example.com")["AuthenticationResult"]
    assert pool_claims(server, tokens["IdToken"], client_id)["sub"] == answer["UserSub"]
    assert password_auth(cognito, client_id, "auto@example.com")["AuthenticationResult"]
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        password_auth(cognito, client_id, "auto@example.com", "wrong")


def test_user_migration_at_a_password_sign_in_then_srp(server, cognito):
    client_id = make_client(server, "USER_PASSWORD_AUTH", "USER_SRP_AUTH")["client_id"]
    with pytest.raises(cognito.exceptions.NotAuthorizedException):  # SRP shows no password
        srp_sign_in(server, cognito, client_id, "legacy@example.com", "legacy password 1")
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        password_auth(cognito, client_id, "legacy@example.com", "wrong password 1")
    first = password_auth(cognito, client_id, "legacy@example.com", "legacy password 1")
    claims = pool_claims(server, first["AuthenticationResult"]["IdToken"], client_id)
    assert claims["name"] == "Legacy User" and claims["email"] == "legacy@example.com"
    again = srp_sign_in(server, cognito, client_id, "legacy@example.com", "legacy password 1")
    assert pool_claims(server, again["AuthenticationResult"]["IdToken"], client_id)["sub"] == \
        claims["sub"]
