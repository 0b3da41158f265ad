"""TOTP through the pool API with boto3: enrolment (AssociateSoftwareToken,
VerifySoftwareToken, SetUserMFAPreference), then a sign-in that answers SOFTWARE_TOKEN_MFA."""

from __future__ import annotations

import pytest

from tests.userpool_api.conftest import totp_now
from tests.userpool_api.test_public_actions import password_auth, sign_up


def test_enrol_totp_then_sign_in_answers_the_software_token_challenge(
        server, cognito, app_client):
    client_id, email = app_client["client_id"], "totp@example.com"
    sign_up(server, cognito, client_id, email)
    tokens = password_auth(cognito, client_id, email)["AuthenticationResult"]
    with pytest.raises(cognito.exceptions.SoftwareTokenMFANotFoundException):
        cognito.verify_software_token(AccessToken=tokens["AccessToken"], UserCode="123456")
    secret = cognito.associate_software_token(AccessToken=tokens["AccessToken"])["SecretCode"]
    with pytest.raises(cognito.exceptions.EnableSoftwareTokenMFAException):
        cognito.verify_software_token(AccessToken=tokens["AccessToken"], UserCode="000000")
    verified = cognito.verify_software_token(AccessToken=tokens["AccessToken"],
                                             UserCode=totp_now(secret))
    assert verified["Status"] == "SUCCESS"
    assert "PreferredMfaSetting" not in cognito.get_user(AccessToken=tokens["AccessToken"])
    cognito.set_user_mfa_preference(
        AccessToken=tokens["AccessToken"],
        SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})
    user = cognito.get_user(AccessToken=tokens["AccessToken"])
    assert user["PreferredMfaSetting"] == "SOFTWARE_TOKEN_MFA"

    started = password_auth(cognito, client_id, email)
    assert started["ChallengeName"] == "SOFTWARE_TOKEN_MFA" and "AuthenticationResult" \
        not in started
    with pytest.raises(cognito.exceptions.CodeMismatchException):
        cognito.respond_to_auth_challenge(
            ClientId=client_id, ChallengeName="SOFTWARE_TOKEN_MFA", Session=started["Session"],
            ChallengeResponses={"USERNAME": email, "SOFTWARE_TOKEN_MFA_CODE": "000000"})
    done = cognito.respond_to_auth_challenge(
        ClientId=client_id, ChallengeName="SOFTWARE_TOKEN_MFA", Session=started["Session"],
        ChallengeResponses={"USERNAME": email, "SOFTWARE_TOKEN_MFA_CODE": totp_now(secret, 1)})
    assert done["AuthenticationResult"]["AccessToken"]
    with pytest.raises(cognito.exceptions.NotAuthorizedException):  # the session is used up
        cognito.respond_to_auth_challenge(
            ClientId=client_id, ChallengeName="SOFTWARE_TOKEN_MFA", Session=started["Session"],
            ChallengeResponses={"USERNAME": email, "SOFTWARE_TOKEN_MFA_CODE": totp_now(secret)})
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.respond_to_auth_challenge(
            ClientId=client_id, ChallengeName="SOFTWARE_TOKEN_MFA", Session="made-up-" + "x" * 40,
            ChallengeResponses={"USERNAME": email, "SOFTWARE_TOKEN_MFA_CODE": "123456"})
    cognito.set_user_mfa_preference(AccessToken=done["AuthenticationResult"]["AccessToken"],
                                    SoftwareTokenMfaSettings={"Enabled": False})
    assert "AuthenticationResult" in password_auth(cognito, client_id, email)
