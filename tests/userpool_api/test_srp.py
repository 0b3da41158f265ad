"""USER_SRP_AUTH against pycognito's AWSSRP, unmodified, over boto3: the verifier made at
sign-up, password change and reset, and at the next password sign-in of a user without
one; wrong passwords and unknown users end alike; the verifier is stored sealed."""

from __future__ import annotations

import pytest
from pycognito.aws_srp import AWSSRP
from sqlalchemy import create_engine, text

from tests.userpool_api.conftest import PASSWORD, error_of, last_code, make_client
from tests.userpool_api.test_public_actions import password_auth, pool_claims, sign_up


def srp_sign_in(server, cognito, client_id: str, email: str, password: str = PASSWORD,
                client_secret: str | None = None) -> dict:
    pool_id = server.extra["pool"]["user_pool_id"]
    flow = AWSSRP(username=email, password=password, pool_id=pool_id, client_id=client_id,
                  client=cognito, client_secret=client_secret)
    return flow.authenticate_user()


def stored_verifiers(server) -> list[str]:
    url = server.env.get("FRONTDESK_DATABASE_URL") or \
        f"sqlite:///{server.instance / 'frontdesk.db'}"
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [row[0] for row in conn.execute(text(
                "SELECT srp_verifier FROM userpool_users WHERE srp_verifier IS NOT NULL"))]
    finally:
        engine.dispose()


def test_wrong_password_and_unknown_user_fail_alike(server, cognito, app_client):
    client_id = app_client["client_id"]
    sign_up(server, cognito, client_id, "srp-wrong@example.com")
    for email, password in (("srp-wrong@example.com", PASSWORD + "x"),
                            ("srp-nobody@example.com", PASSWORD)):
        with pytest.raises(cognito.exceptions.NotAuthorizedException) as caught:
            srp_sign_in(server, cognito, client_id, email, password)
        assert error_of(caught)[1] == "Incorrect username or password."


def test_signed_up_user_signs_in_with_srp_and_the_verifier_is_sealed(
        server, cognito, app_client):
    client_id = app_client["client_id"]
    sub = sign_up(server, cognito, client_id, "srp@example.com")
    tokens = srp_sign_in(server, cognito, client_id, "srp@example.com")
    result = tokens["AuthenticationResult"]
    assert pool_claims(server, result["IdToken"], client_id)["sub"] == sub
    assert result["RefreshToken"]
    sealed = stored_verifiers(server)
    assert sealed and all(value.startswith("v1.") for value in sealed)


def test_a_proof_cannot_be_replayed(server, cognito, app_client):
    client_id = app_client["client_id"]
    sign_up(server, cognito, client_id, "srp-replay@example.com")
    flow = AWSSRP(username="srp-replay@example.com", password=PASSWORD, client=cognito,
                  pool_id=server.extra["pool"]["user_pool_id"], client_id=client_id)
    params = flow.get_auth_params()
    started = cognito.initiate_auth(ClientId=client_id, AuthFlow="USER_SRP_AUTH",
                                    AuthParameters=params)
    answer = flow.process_challenge(started["ChallengeParameters"], params)
    cognito.respond_to_auth_challenge(ClientId=client_id, ChallengeName="PASSWORD_VERIFIER",
                                      ChallengeResponses=answer)
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.respond_to_auth_challenge(ClientId=client_id, ChallengeName="PASSWORD_VERIFIER",
                                          ChallengeResponses=answer)


def test_user_without_a_verifier_gets_one_at_the_next_password_sign_in(
        server, cognito, app_client):
    client_id = app_client["client_id"]
    server.cli("users", "create", "--email", "imported@example.com", "--password", PASSWORD,
               "--verified", "--json")
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        srp_sign_in(server, cognito, client_id, "imported@example.com")
    password_auth(cognito, client_id, "imported@example.com")
    assert srp_sign_in(server, cognito, client_id, "imported@example.com")[
        "AuthenticationResult"]["AccessToken"]


def test_password_change_and_reset_make_a_new_verifier(server, cognito, app_client):
    client_id, email = app_client["client_id"], "srp-change@example.com"
    sign_up(server, cognito, client_id, email)
    access = srp_sign_in(server, cognito, client_id, email)["AuthenticationResult"][
        "AccessToken"]
    cognito.change_password(AccessToken=access, PreviousPassword=PASSWORD,
                            ProposedPassword="Changed-Harbour-45")
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        srp_sign_in(server, cognito, client_id, email)
    srp_sign_in(server, cognito, client_id, email, "Changed-Harbour-45")
    cognito.forgot_password(ClientId=client_id, Username=email)
    cognito.confirm_forgot_password(ClientId=client_id, Username=email,
                                    ConfirmationCode=last_code(server, email),
                                    Password="Reset-Harbour-46")
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        srp_sign_in(server, cognito, client_id, email, "Changed-Harbour-45")
    srp_sign_in(server, cognito, client_id, email, "Reset-Harbour-46")


def test_srp_with_a_client_secret(server, cognito):
    client = make_client(server, "USER_SRP_AUTH", public=False, name="SRP backend")
    client_id, secret, email = client["client_id"], client["client_secret"], "srp-s@example.com"
    good = AWSSRP.get_secret_hash(email, client_id, secret)
    cognito.sign_up(ClientId=client_id, Username=email, Password=PASSWORD, SecretHash=good,
                    UserAttributes=[{"Name": "name", "Value": "Kim"}])
    cognito.confirm_sign_up(ClientId=client_id, Username=email, SecretHash=good,
                            ConfirmationCode=last_code(server, email))
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        srp_sign_in(server, cognito, client_id, email, client_secret="wrong")
    result = srp_sign_in(server, cognito, client_id, email, client_secret=secret)
    assert result["AuthenticationResult"]["IdToken"]
