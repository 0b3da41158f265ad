"""The public (app-client) actions with boto3 against a live server: sign-up and
confirmation by the mailed code, password sign-in and refresh, the account actions, and
every documented refusal as the exception boto3 raises."""

from __future__ import annotations

import time

import jwt
import pytest
import requests
from botocore.exceptions import ClientError

from tests.admin.test_live import password_login
from tests.userpool_api.conftest import (
    PASSWORD,
    error_of,
    last_code,
    mails_to,
    make_client,
)

TARGET = "AWSCognitoIdentityProviderService."
NAME = [{"Name": "name", "Value": "Pat"}]


def pool_claims(server, token: str, audience: str | None = None) -> dict:
    """Verify as an SDK-side verifier does: keys from <iss>/.well-known/jwks.json."""
    pool = server.extra["pool"]
    issuer = f"{pool['endpoint']}/{pool['user_pool_id']}"
    keys = jwt.PyJWKClient(issuer + "/.well-known/jwks.json")
    key = keys.get_signing_key_from_jwt(token)
    return jwt.decode(token, key.key, algorithms=["RS256"], issuer=issuer, audience=audience,
                      options={"verify_aud": audience is not None})


def sign_up(server, cognito, client_id: str, email: str, password: str = PASSWORD) -> str:
    answer = cognito.sign_up(ClientId=client_id, Username=email, Password=password,
                             UserAttributes=[{"Name": "email", "Value": email},
                                             {"Name": "name", "Value": "Pat"}])
    assert answer["UserConfirmed"] is False
    assert answer["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    cognito.confirm_sign_up(ClientId=client_id, Username=email,
                            ConfirmationCode=last_code(server, email))
    return answer["UserSub"]


def password_auth(cognito, client_id: str, email: str, password: str = PASSWORD) -> dict:
    return cognito.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                 AuthParameters={"USERNAME": email, "PASSWORD": password})


def test_requests_that_are_not_the_protocol_are_refused_as_the_sdks_expect(server):
    endpoint = server.extra["pool"]["endpoint"]
    no_target = requests.post(endpoint, data="{}", timeout=10)
    assert no_target.status_code == 400
    assert no_target.json()["__type"] == "UnknownOperationException"
    unknown = requests.post(endpoint, data="{}", timeout=10,
                            headers={"X-Amz-Target": TARGET + "CreateUserPool"})
    assert unknown.json()["__type"] == "UnknownOperationException"
    not_json = requests.post(endpoint + "/", data="{nope", timeout=10,
                             headers={"X-Amz-Target": TARGET + "SignUp",
                                      "Content-Type": "application/x-amz-json-1.1"})
    assert not_json.status_code == 400 and not_json.json()["__type"] == "SerializationException"
    assert not_json.headers["Content-Type"] == "application/x-amz-json-1.1"


def test_unknown_client_and_bad_parameters(server, cognito, app_client):
    with pytest.raises(ClientError) as caught:
        password_auth(cognito, "no-such-client", "a@example.com")
    assert error_of(caught)[0] == "ResourceNotFoundException"
    with pytest.raises(cognito.exceptions.InvalidParameterException):
        cognito.sign_up(ClientId=app_client["client_id"], Username="not an address",
                        Password=PASSWORD)
    with pytest.raises(cognito.exceptions.InvalidParameterException):
        cognito.initiate_auth(ClientId=app_client["client_id"], AuthFlow="USER_PASSWORD_AUTH",
                              AuthParameters={"USERNAME": "a@example.com"})


def test_weak_password_unknown_user_and_wrong_password(server, cognito, app_client):
    client_id = app_client["client_id"]
    with pytest.raises(cognito.exceptions.InvalidPasswordException):
        cognito.sign_up(ClientId=client_id, Username="weak@example.com", Password="short")
    assert mails_to(server, "weak@example.com") == []
    for email, password in (("nobody@example.com", PASSWORD), ("nobody@example.com", "x")):
        with pytest.raises(cognito.exceptions.NotAuthorizedException) as caught:
            password_auth(cognito, client_id, email, password)
        assert error_of(caught)[1] == "Incorrect username or password."
    sign_up(server, cognito, client_id, "wrongpw@example.com")
    with pytest.raises(cognito.exceptions.NotAuthorizedException) as caught:
        password_auth(cognito, client_id, "wrongpw@example.com", PASSWORD + "!")
    assert error_of(caught)[1] == "Incorrect username or password."


def test_wrong_code_then_sign_up_confirm_and_tokens_with_the_pool_profile(
        server, cognito, app_client):
    client_id, email = app_client["client_id"], "Ada@Example.com"
    answer = cognito.sign_up(ClientId=client_id, Username=email, Password=PASSWORD,
                             UserAttributes=[{"Name": "name", "Value": "Ada"}])
    with pytest.raises(cognito.exceptions.CodeMismatchException):
        cognito.confirm_sign_up(ClientId=client_id, Username=email, ConfirmationCode="000000")
    cognito.confirm_sign_up(ClientId=client_id, Username=email,
                            ConfirmationCode=last_code(server, "Ada@example.com"))
    with pytest.raises(cognito.exceptions.ExpiredCodeException):
        cognito.confirm_sign_up(ClientId=client_id, Username=email, ConfirmationCode="123456")
    result = password_auth(cognito, client_id, email)["AuthenticationResult"]
    assert result["TokenType"] == "Bearer" and result["ExpiresIn"] > 0
    id_claims = pool_claims(server, result["IdToken"], audience=client_id)
    assert id_claims["sub"] == answer["UserSub"] == id_claims["cognito:username"]
    assert id_claims["token_use"] == "id" and id_claims["email"] == "Ada@example.com"
    assert id_claims["email_verified"] is True and id_claims["name"] == "Ada"
    access = pool_claims(server, result["AccessToken"])
    assert access["token_use"] == "access" and access["client_id"] == client_id
    assert access["username"] == answer["UserSub"]
    assert "aws.cognito.signin.user.admin" in access["scope"].split()
    user = cognito.get_user(AccessToken=result["AccessToken"])
    attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert user["Username"] == answer["UserSub"]
    assert attributes["email"] == "Ada@example.com" and attributes["email_verified"] == "true"
    assert attributes["sub"] == answer["UserSub"]


def test_signing_up_an_existing_address_looks_like_a_new_one(server, cognito, app_client):
    client_id = app_client["client_id"]
    sub = sign_up(server, cognito, client_id, "taken@example.com")
    time.sleep(1.1)  # the mail cool-down of this server
    again = cognito.sign_up(ClientId=client_id, Username="taken@example.com",
                            Password=PASSWORD + "x", UserAttributes=NAME)
    assert again["UserConfirmed"] is False and again["UserSub"] != sub
    assert len(mails_to(server, "taken@example.com")) == 2  # the owner is told
    with pytest.raises(cognito.exceptions.CodeMismatchException):
        cognito.confirm_sign_up(ClientId=client_id, Username="taken@example.com",
                                ConfirmationCode="123456")
    password_auth(cognito, client_id, "taken@example.com")  # the first password still works


def test_resend_confirmation_code_sends_a_new_code(server, cognito, app_client):
    client_id, email = app_client["client_id"], "resend@example.com"
    cognito.sign_up(ClientId=client_id, Username=email, Password=PASSWORD, UserAttributes=NAME)
    first = last_code(server, email)
    time.sleep(1.1)  # the mail cool-down of this server
    delivery = cognito.resend_confirmation_code(ClientId=client_id, Username=email)
    assert delivery["CodeDeliveryDetails"]["Destination"] == "r***@e***"
    second = last_code(server, email)
    assert len(mails_to(server, email)) == 2
    if first != second:
        with pytest.raises(cognito.exceptions.CodeMismatchException):
            cognito.confirm_sign_up(ClientId=client_id, Username=email,
                                    ConfirmationCode=first)
    cognito.confirm_sign_up(ClientId=client_id, Username=email, ConfirmationCode=second)
    unknown = cognito.resend_confirmation_code(ClientId=client_id, Username="ghost@example.com")
    assert unknown["CodeDeliveryDetails"]["Destination"] == "g***@e***"
    assert mails_to(server, "ghost@example.com") == []


def test_refresh_rotates_and_a_reused_refresh_token_is_refused(server, cognito, app_client):
    client_id = app_client["client_id"]
    sub = sign_up(server, cognito, client_id, "refresh@example.com")
    first = password_auth(cognito, client_id, "refresh@example.com")["AuthenticationResult"]
    renewed = cognito.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                                    AuthParameters={"REFRESH_TOKEN": first["RefreshToken"]})
    result = renewed["AuthenticationResult"]
    assert pool_claims(server, result["IdToken"], client_id)["sub"] == sub
    assert result["RefreshToken"] != first["RefreshToken"]
    time.sleep(6)  # past the refresh grace window
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN",
                              AuthParameters={"REFRESH_TOKEN": first["RefreshToken"]})
    with pytest.raises(cognito.exceptions.NotAuthorizedException):  # the family is revoked
        cognito.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                              AuthParameters={"REFRESH_TOKEN": result["RefreshToken"]})
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                              AuthParameters={"REFRESH_TOKEN": "not-a-token"})


def test_get_tokens_from_refresh_token(server, cognito, app_client):
    client_id = app_client["client_id"]
    sub = sign_up(server, cognito, client_id, "gettokens@example.com")
    first = password_auth(cognito, client_id, "gettokens@example.com")["AuthenticationResult"]
    renewed = cognito.get_tokens_from_refresh_token(ClientId=client_id,
                                                    RefreshToken=first["RefreshToken"])
    result = renewed["AuthenticationResult"]
    assert pool_claims(server, result["IdToken"], client_id)["sub"] == sub
    again = cognito.get_tokens_from_refresh_token(ClientId=client_id,
                                                  RefreshToken=result["RefreshToken"])
    assert again["AuthenticationResult"]["AccessToken"]
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.get_tokens_from_refresh_token(ClientId=client_id, RefreshToken="x" * 40)


def test_change_password_ends_other_tokens(server, cognito, app_client):
    client_id, email = app_client["client_id"], "change@example.com"
    sign_up(server, cognito, client_id, email)
    tokens = password_auth(cognito, client_id, email)["AuthenticationResult"]
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.change_password(AccessToken=tokens["AccessToken"], PreviousPassword="wrong",
                                ProposedPassword="Another-Harbour-43")
    with pytest.raises(cognito.exceptions.InvalidPasswordException):
        cognito.change_password(AccessToken=tokens["AccessToken"], PreviousPassword=PASSWORD,
                                ProposedPassword="short")
    cognito.change_password(AccessToken=tokens["AccessToken"], PreviousPassword=PASSWORD,
                            ProposedPassword="Another-Harbour-43")
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.get_user(AccessToken=tokens["AccessToken"])
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                              AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]})
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        password_auth(cognito, client_id, email)
    password_auth(cognito, client_id, email, "Another-Harbour-43")


def test_forgot_password_and_confirm_with_the_mailed_code(server, cognito, app_client):
    client_id, email = app_client["client_id"], "forgot@example.com"
    sign_up(server, cognito, client_id, email)
    tokens = password_auth(cognito, client_id, email)["AuthenticationResult"]
    sent = cognito.forgot_password(ClientId=client_id, Username=email)
    assert sent["CodeDeliveryDetails"]["Destination"] == "f***@e***"
    ghost = cognito.forgot_password(ClientId=client_id, Username="nobody-here@example.com")
    assert ghost["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    assert mails_to(server, "nobody-here@example.com") == []
    code = last_code(server, email)
    with pytest.raises(cognito.exceptions.InvalidPasswordException):
        cognito.confirm_forgot_password(ClientId=client_id, Username=email,
                                        ConfirmationCode=code, Password="short")
    with pytest.raises(cognito.exceptions.CodeMismatchException):
        cognito.confirm_forgot_password(ClientId=client_id, Username=email,
                                        ConfirmationCode="000000", Password="Reset-Harbour-44")
    cognito.confirm_forgot_password(ClientId=client_id, Username=email, ConfirmationCode=code,
                                    Password="Reset-Harbour-44")
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.get_user(AccessToken=tokens["AccessToken"])
    password_auth(cognito, client_id, email, "Reset-Harbour-44")


def test_global_sign_out_revoke_token_and_delete_user(server, cognito, app_client):
    client_id, email = app_client["client_id"], "signout@example.com"
    sign_up(server, cognito, client_id, email)
    first = password_auth(cognito, client_id, email)["AuthenticationResult"]
    cognito.revoke_token(ClientId=client_id, Token=first["RefreshToken"])
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                              AuthParameters={"REFRESH_TOKEN": first["RefreshToken"]})
    with pytest.raises(cognito.exceptions.NotAuthorizedException):  # and its access tokens
        cognito.get_user(AccessToken=first["AccessToken"])
    time.sleep(0.01)
    second = password_auth(cognito, client_id, email)["AuthenticationResult"]
    cognito.global_sign_out(AccessToken=second["AccessToken"])
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.get_user(AccessToken=second["AccessToken"])
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                              AuthParameters={"REFRESH_TOKEN": second["RefreshToken"]})
    third = password_auth(cognito, client_id, email)["AuthenticationResult"]
    cognito.update_user_attributes(AccessToken=third["AccessToken"],
                                   UserAttributes=[{"Name": "given_name", "Value": "Sam"}])
    attributes = {a["Name"]: a["Value"] for a in
                  cognito.get_user(AccessToken=third["AccessToken"])["UserAttributes"]}
    assert attributes["given_name"] == "Sam"
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.update_user_attributes(AccessToken=third["AccessToken"],
                                       UserAttributes=[{"Name": "sub", "Value": "x"}])
    cognito.delete_user(AccessToken=third["AccessToken"])
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        password_auth(cognito, client_id, email)


def test_secret_hash_for_a_client_with_a_secret(server, cognito):
    from pycognito.aws_srp import AWSSRP

    client = make_client(server, "USER_PASSWORD_AUTH", public=False, name="Backend")
    client_id, secret, email = client["client_id"], client["client_secret"], "hash@example.com"
    good = AWSSRP.get_secret_hash(email, client_id, secret)
    with pytest.raises(cognito.exceptions.NotAuthorizedException) as caught:
        cognito.sign_up(ClientId=client_id, Username=email, Password=PASSWORD,
                        UserAttributes=NAME)
    assert "SECRET_HASH was not received" in error_of(caught)[1]
    with pytest.raises(cognito.exceptions.NotAuthorizedException) as caught:
        cognito.sign_up(ClientId=client_id, Username=email, Password=PASSWORD,
                        UserAttributes=NAME,
                        SecretHash=AWSSRP.get_secret_hash(email, client_id, "wrong"))
    assert "Unable to verify secret hash" in error_of(caught)[1]
    cognito.sign_up(ClientId=client_id, Username=email, Password=PASSWORD, SecretHash=good,
                    UserAttributes=NAME)
    cognito.confirm_sign_up(ClientId=client_id, Username=email, SecretHash=good,
                            ConfirmationCode=last_code(server, email))
    result = cognito.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                   AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD,
                                                   "SECRET_HASH": good})
    assert "RefreshToken" not in result["AuthenticationResult"]  # no REFRESH_TOKEN_AUTH here


def test_a_flow_the_client_does_not_allow_is_refused(server, cognito):
    client_id = make_client(server, "USER_SRP_AUTH", name="SRP only")["client_id"]
    with pytest.raises(cognito.exceptions.InvalidParameterException) as caught:
        password_auth(cognito, client_id, "anyone@example.com")
    assert "USER_PASSWORD_AUTH flow not enabled" in error_of(caught)[1]


def test_one_user_for_the_api_and_the_hosted_pages(server, cognito, app_client):
    client_id = app_client["client_id"]
    sub = sign_up(server, cognito, client_id, "both@example.com")
    assert password_login(server, "both@example.com", PASSWORD).status_code == 303
    import json

    created = json.loads(server.cli("users", "create", "--email", "cli@example.com",
                                    "--password", PASSWORD, "--verified", "--json").stdout)
    tokens = password_auth(cognito, client_id, "cli@example.com")["AuthenticationResult"]
    assert pool_claims(server, tokens["IdToken"], client_id)["sub"] == created["id"]
    shown = json.loads(server.cli("users", "show", "both@example.com", "--json").stdout)
    assert shown["id"] == sub


def test_cors_for_an_app_client_origin_only(server, app_client):
    endpoint = server.extra["pool"]["endpoint"]
    headers = {"Origin": "http://127.0.0.1:3000", "Access-Control-Request-Method": "POST",
               "Access-Control-Request-Headers": "content-type,x-amz-target,x-amz-user-agent"}
    preflight = requests.options(endpoint + "/", headers=headers, timeout=10)
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:3000"
    assert "X-Amz-Target" in preflight.headers["Access-Control-Allow-Headers"]
    other = requests.options(endpoint + "/", timeout=10,
                             headers={**headers, "Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
