"""A pool that requires MFA: a user without TOTP gets the MFA_SETUP challenge at sign-in
and enrols within it (AssociateSoftwareToken and VerifySoftwareToken on the Session)."""

from __future__ import annotations

import pytest

from tests.userpool_api.conftest import totp_now
from tests.userpool_api.test_public_actions import password_auth, sign_up

SERVER_OVERRIDES = {"mfa_policy": "required"}


def test_mfa_setup_challenge_enrols_then_sign_in_asks_for_the_code(server, cognito, app_client):
    client_id, email = app_client["client_id"], "setup@example.com"
    sign_up(server, cognito, client_id, email)
    started = password_auth(cognito, client_id, email)
    assert started["ChallengeName"] == "MFA_SETUP"
    with pytest.raises(cognito.exceptions.InvalidParameterException):  # nothing verified yet
        cognito.respond_to_auth_challenge(ClientId=client_id, ChallengeName="MFA_SETUP",
                                          Session=started["Session"],
                                          ChallengeResponses={"USERNAME": email})
    associated = cognito.associate_software_token(Session=started["Session"])
    verified = cognito.verify_software_token(Session=associated["Session"],
                                             UserCode=totp_now(associated["SecretCode"]))
    assert verified["Status"] == "SUCCESS"
    done = cognito.respond_to_auth_challenge(ClientId=client_id, ChallengeName="MFA_SETUP",
                                             Session=verified["Session"],
                                             ChallengeResponses={"USERNAME": email})
    tokens = done["AuthenticationResult"]
    assert cognito.get_user(AccessToken=tokens["AccessToken"])["PreferredMfaSetting"] == \
        "SOFTWARE_TOKEN_MFA"
    with pytest.raises(cognito.exceptions.InvalidParameterException):
        cognito.set_user_mfa_preference(AccessToken=tokens["AccessToken"],
                                        SoftwareTokenMfaSettings={"Enabled": False})
    assert password_auth(cognito, client_id, email)["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
