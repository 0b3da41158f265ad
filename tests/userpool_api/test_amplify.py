"""AWS Amplify JS v6 (aws-amplify from npm, tests/amplify/) under Node, running the
article's snippets against a live server with only userPoolEndpoint changed:
signUp -> confirmSignUp with the mailed code -> signIn (SRP, Amplify's default) ->
getCurrentUser -> fetchAuthSession -> signOut; and a TOTP user's signIn answering
CONFIRM_SIGN_IN_WITH_TOTP_CODE, then confirmSignIn. Also amazon-cognito-identity-js."""

from __future__ import annotations

import json
import shutil
import subprocess

from tests.live import ROOT
from tests.userpool_api.conftest import PASSWORD, last_code, totp_now
from tests.userpool_api.test_public_actions import password_auth, pool_claims, sign_up

AMPLIFY = ROOT / "tests" / "amplify"


def amplify(server, client_id: str, step: str, **args) -> dict:
    node = shutil.which("node")
    assert node, "Node.js 20 is needed for the Amplify tests"
    assert (AMPLIFY / "node_modules" / "aws-amplify").is_dir(), \
        "run `npm ci` in tests/amplify (scripts/test does)"
    pool = server.extra["pool"]
    config = {"userPoolId": pool["user_pool_id"], "userPoolClientId": client_id,
              "userPoolEndpoint": pool["endpoint"], **args}
    done = subprocess.run([node, "amplify_flow.mjs", step, json.dumps(config)], cwd=AMPLIFY,
                          capture_output=True, text=True, timeout=120)
    assert done.stdout.strip(), done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_amplify_sign_up_confirm_sign_in_session_sign_out(server, app_client):
    client_id, email = app_client["client_id"], "amplify@example.com"
    started = amplify(server, client_id, "signup", email=email, password=PASSWORD,
                      fullName="Ada Amplify")
    assert started == {"isSignUpComplete": False, "userId": started["userId"],
                       "nextStep": "CONFIRM_SIGN_UP"}
    wrong = amplify(server, client_id, "confirm-and-sign-in", email=email, password=PASSWORD,
                    code="000000")
    assert wrong["error"] == "CodeMismatchException"
    result = amplify(server, client_id, "confirm-and-sign-in", email=email, password=PASSWORD,
                     code=last_code(server, email))
    assert "error" not in result, result
    assert result["isSignedIn"] is True and result["nextStep"] == "DONE"
    assert result["authFlowType"] == "USER_SRP_AUTH" and result["loginId"] == email
    assert result["userId"] == result["username"] == started["userId"]
    claims = pool_claims(server, result["idToken"], client_id)
    assert claims["sub"] == started["userId"] and claims["name"] == "Ada Amplify"
    assert pool_claims(server, result["refreshedIdToken"], client_id)["sub"] == claims["sub"]
    assert result["afterSignOut"] == "UserUnAuthenticatedException"


def test_amplify_totp_user_confirms_sign_in_with_the_code(server, cognito, app_client):
    client_id, email = app_client["client_id"], "amplify-totp@example.com"
    sign_up(server, cognito, client_id, email)
    access = password_auth(cognito, client_id, email)["AuthenticationResult"]["AccessToken"]
    secret = cognito.associate_software_token(AccessToken=access)["SecretCode"]
    cognito.verify_software_token(AccessToken=access, UserCode=totp_now(secret))
    cognito.set_user_mfa_preference(AccessToken=access, SoftwareTokenMfaSettings={
        "Enabled": True, "PreferredMfa": True})
    result = amplify(server, client_id, "totp-sign-in", email=email, password=PASSWORD,
                     code=totp_now(secret, 1), wrongCode="000000")
    assert result == {"firstStep": "CONFIRM_SIGN_IN_WITH_TOTP_CODE",
                      "wrongCode": "CodeMismatchException", "isSignedIn": True,
                      "username": result["username"]}, result


def test_amazon_cognito_identity_js_srp_attributes_refresh_and_totp(server, cognito,
                                                                     app_client):
    client_id = app_client["client_id"]
    sub = sign_up(server, cognito, client_id, "identity-js@example.com")
    totp_sub = sign_up(server, cognito, client_id, "identity-js-totp@example.com")
    access = password_auth(cognito, client_id, "identity-js-totp@example.com")[
        "AuthenticationResult"]["AccessToken"]
    secret = cognito.associate_software_token(AccessToken=access)["SecretCode"]
    cognito.verify_software_token(AccessToken=access, UserCode=totp_now(secret))
    cognito.set_user_mfa_preference(AccessToken=access, SoftwareTokenMfaSettings={
        "Enabled": True, "PreferredMfa": True})
    pool = server.extra["pool"]
    config = {"userPoolId": pool["user_pool_id"], "clientId": client_id,
              "endpoint": pool["endpoint"], "email": "identity-js@example.com",
              "password": PASSWORD, "totpEmail": "identity-js-totp@example.com",
              "totpCode": totp_now(secret, 1)}
    done = subprocess.run([shutil.which("node"), "identity_js_flow.mjs", json.dumps(config)],
                          cwd=AMPLIFY, capture_output=True, text=True, timeout=120)
    assert done.stdout.strip(), done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["wrongPassword"] == "NotAuthorizedException"
    assert result["sub"] == result["refreshedSub"] == sub
    assert result["attributes"]["email"] == "identity-js@example.com"
    assert result["totp"] == {"asked": True, "sub": totp_sub}
