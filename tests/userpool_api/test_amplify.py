"""AWS Amplify JS v6 (aws-amplify from npm, tests/amplify/) under Node, running the
article's snippets against a live server with only userPoolEndpoint changed:
signUp -> confirmSignUp with the mailed code -> signIn (SRP, Amplify's default) ->
getCurrentUser -> fetchAuthSession -> signOut; and a TOTP user's signIn answering
CONFIRM_SIGN_IN_WITH_TOTP_CODE, then confirmSignIn."""

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
