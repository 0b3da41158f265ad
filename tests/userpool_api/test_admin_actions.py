"""The admin actions with boto3, signed with SigV4 by keys from `frontdesk cognito keys
create`: user management, groups, AdminInitiateAuth; and every way a signature is refused
(wrong secret, unknown key, stale X-Amz-Date, replay, missing scope)."""

from __future__ import annotations

import datetime
import json
import time

import botocore.auth
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.admin.test_live import password_login
from tests.userpool_api.conftest import PASSWORD, error_of, idp, last_code, make_client
from tests.userpool_api.test_public_actions import password_auth, pool_claims, sign_up

TARGET = "AWSCognitoIdentityProviderService."
WRITE = ("admin:users:write", "admin:users:read", "admin:groups")


def new_key(server, *scopes: str) -> dict:
    args = ["cognito", "keys", "create", "--json"]
    for scope in scopes:
        args += ["--scope", scope]
    return json.loads(server.cli(*args).stdout)


@pytest.fixture(scope="module")
def admin(server):
    return idp(server, **new_key(server, *WRITE))


@pytest.fixture(scope="module")
def pool_id(server) -> str:
    return server.extra["pool"]["user_pool_id"]


def signed_post(server, key: dict, action: str, body: dict, when=None) -> requests.Response:
    """A request signed by botocore's own SigV4Auth, sent as it is."""
    endpoint = server.extra["pool"]["endpoint"] + "/"
    request = AWSRequest(method="POST", url=endpoint, data=json.dumps(body).encode(),
                         headers={"X-Amz-Target": TARGET + action,
                                  "Content-Type": "application/x-amz-json-1.1"})
    signer = SigV4Auth(Credentials(key["access_key_id"], key["secret_access_key"]),
                       "cognito-idp", server.extra["pool"]["region"])
    if when is None:
        signer.add_auth(request)
    else:
        original = botocore.auth.get_current_datetime
        botocore.auth.get_current_datetime = lambda: when
        try:
            signer.add_auth(request)
        finally:
            botocore.auth.get_current_datetime = original
    return requests.post(endpoint, data=request.body, headers=dict(request.headers),
                         timeout=10)


def test_signatures_that_are_refused(server, pool_id):
    key = new_key(server, "admin:users:read")
    body = {"UserPoolId": pool_id}
    assert signed_post(server, key, "ListUsers", body).status_code == 200
    unsigned = requests.post(server.extra["pool"]["endpoint"], data=json.dumps(body),
                             headers={"X-Amz-Target": TARGET + "ListUsers"}, timeout=10)
    assert unsigned.json()["__type"] == "MissingAuthenticationTokenException"
    wrong = signed_post(server, {**key, "secret_access_key": "x" * 40}, "ListUsers", body)
    assert wrong.status_code == 400 and wrong.json()["__type"] == "InvalidSignatureException"
    unknown = signed_post(server, {**key, "access_key_id": "FDKNOSUCHKEY0000000"}, "ListUsers",
                          body)
    assert unknown.json()["__type"] == "UnrecognizedClientException"
    stale = datetime.datetime.now(datetime.UTC).replace(tzinfo=None) - \
        datetime.timedelta(minutes=6)
    old = signed_post(server, key, "ListUsers", body, when=stale)
    assert old.json()["__type"] == "InvalidSignatureException"
    assert "expired" in old.json()["message"]
    endpoint = server.extra["pool"]["endpoint"] + "/"
    body = {"UserPoolId": pool_id, "Limit": 7}  # not byte-identical to the requests above
    request = AWSRequest(method="POST", url=endpoint, data=json.dumps(body).encode(),
                         headers={"X-Amz-Target": TARGET + "ListUsers",
                                  "Content-Type": "application/x-amz-json-1.1"})
    SigV4Auth(Credentials(key["access_key_id"], key["secret_access_key"]), "cognito-idp",
              server.extra["pool"]["region"]).add_auth(request)
    first = requests.post(endpoint, data=request.body, headers=dict(request.headers),
                          timeout=10)
    replay = requests.post(endpoint, data=request.body, headers=dict(request.headers),
                           timeout=10)
    assert first.status_code == 200 and replay.json()["__type"] == "InvalidSignatureException"
    tampered = requests.post(endpoint, data=json.dumps({"UserPoolId": pool_id, "Limit": 1}),
                             headers=dict(request.headers), timeout=10)
    assert tampered.json()["__type"] == "InvalidSignatureException"
    swapped = dict(request.headers) | {"X-Amz-Target": TARGET + "AdminDeleteUser"}
    assert requests.post(endpoint, data=request.body, headers=swapped, timeout=10).json()[
        "__type"] == "InvalidSignatureException"


def test_scopes_and_pool_id(server, pool_id):
    reader = idp(server, **new_key(server, "admin:users:read"))
    with pytest.raises(reader.exceptions.ClientError) as caught:
        reader.admin_create_user(UserPoolId=pool_id, Username="r@example.com",
                                 MessageAction="SUPPRESS")
    assert error_of(caught)[0] == "AccessDeniedException"
    with pytest.raises(reader.exceptions.ResourceNotFoundException):
        reader.list_users(UserPoolId="us-east-1_Other")
    assert server.cli("cognito", "keys", "create", "--scope", "admin:clients",
                      check=False).returncode != 0


def test_admin_created_user_changes_the_temporary_password_at_first_sign_in(
        server, admin, cognito, pool_id, app_client):
    client_id = app_client["client_id"]
    with pytest.raises(admin.exceptions.InvalidPasswordException):
        admin.admin_create_user(UserPoolId=pool_id, Username="new@example.com",
                                TemporaryPassword="short", MessageAction="SUPPRESS")
    created = admin.admin_create_user(
        UserPoolId=pool_id, Username="new@example.com", TemporaryPassword="Temp-Harbour-47",
        MessageAction="SUPPRESS", UserAttributes=[{"Name": "email_verified", "Value": "true"},
                                                  {"Name": "name", "Value": "Noor"}])["User"]
    assert created["UserStatus"] == "FORCE_CHANGE_PASSWORD" and created["Enabled"] is True
    with pytest.raises(admin.exceptions.UsernameExistsException):
        admin.admin_create_user(UserPoolId=pool_id, Username="NEW@example.com",
                                MessageAction="SUPPRESS")
    started = password_auth(cognito, client_id, "new@example.com", "Temp-Harbour-47")
    assert started["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    with pytest.raises(cognito.exceptions.InvalidPasswordException):
        cognito.respond_to_auth_challenge(
            ClientId=client_id, ChallengeName="NEW_PASSWORD_REQUIRED", Session=started["Session"],
            ChallengeResponses={"USERNAME": "new@example.com", "NEW_PASSWORD": "short"})
    done = cognito.respond_to_auth_challenge(
        ClientId=client_id, ChallengeName="NEW_PASSWORD_REQUIRED", Session=started["Session"],
        ChallengeResponses={"USERNAME": "new@example.com", "NEW_PASSWORD": PASSWORD})
    sub = pool_claims(server, done["AuthenticationResult"]["IdToken"], client_id)["sub"]
    assert sub == created["Username"]
    fetched = admin.admin_get_user(UserPoolId=pool_id, Username="new@example.com")
    assert fetched["UserStatus"] == "CONFIRMED" and fetched["Username"] == sub
    assert password_login(server, "new@example.com", PASSWORD).status_code == 303


def test_list_users_with_filters(server, admin, cognito, pool_id, app_client):
    sub = sign_up(server, cognito, app_client["client_id"], "listed@example.com")
    by_email = admin.list_users(UserPoolId=pool_id, Filter='email = "listed@example.com"')
    assert [u["Username"] for u in by_email["Users"]] == [sub]
    by_prefix = admin.list_users(UserPoolId=pool_id, Filter='email ^= "LISTED"')
    assert [u["Username"] for u in by_prefix["Users"]] == [sub]
    by_sub = admin.list_users(UserPoolId=pool_id, Filter=f'sub = "{sub}"')
    assert len(by_sub["Users"]) == 1
    admin.admin_disable_user(UserPoolId=pool_id, Username=sub)
    disabled = admin.list_users(UserPoolId=pool_id, Filter='status = "Disabled"')
    assert sub in [u["Username"] for u in disabled["Users"]]
    admin.admin_enable_user(UserPoolId=pool_id, Username=sub)
    page = admin.list_users(UserPoolId=pool_id, Limit=1)
    assert len(page["Users"]) == 1 and page["PaginationToken"]
    with pytest.raises(admin.exceptions.InvalidParameterException):
        admin.list_users(UserPoolId=pool_id, Filter='family_name = "x"')
    with pytest.raises(admin.exceptions.UserNotFoundException):
        admin.admin_get_user(UserPoolId=pool_id, Username="nobody@example.com")


def test_disable_enable_sign_out_set_and_reset_password_delete(
        server, admin, cognito, pool_id, app_client):
    client_id, email = app_client["client_id"], "managed@example.com"
    sign_up(server, cognito, client_id, email)
    tokens = password_auth(cognito, client_id, email)["AuthenticationResult"]
    admin.admin_disable_user(UserPoolId=pool_id, Username=email)
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.get_user(AccessToken=tokens["AccessToken"])
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        password_auth(cognito, client_id, email)
    admin.admin_enable_user(UserPoolId=pool_id, Username=email)
    tokens = password_auth(cognito, client_id, email)["AuthenticationResult"]
    admin.admin_user_global_sign_out(UserPoolId=pool_id, Username=email)
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                              AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]})
    admin.admin_update_user_attributes(UserPoolId=pool_id, Username=email, UserAttributes=[
        {"Name": "given_name", "Value": "Rue"}])
    attributes = {a["Name"]: a["Value"] for a in admin.admin_get_user(
        UserPoolId=pool_id, Username=email)["UserAttributes"]}
    assert attributes["given_name"] == "Rue"
    admin.admin_set_user_password(UserPoolId=pool_id, Username=email,
                                  Password="Admin-Harbour-48", Permanent=True)
    password_auth(cognito, client_id, email, "Admin-Harbour-48")
    admin.admin_reset_user_password(UserPoolId=pool_id, Username=email)
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        password_auth(cognito, client_id, email, "Admin-Harbour-48")
    cognito.confirm_forgot_password(ClientId=client_id, Username=email,
                                    ConfirmationCode=last_code(server, email),
                                    Password="Fresh-Harbour-49")
    password_auth(cognito, client_id, email, "Fresh-Harbour-49")
    admin.admin_delete_user(UserPoolId=pool_id, Username=email)
    time.sleep(1)  # a byte-identical signed request within the same second is a replay
    with pytest.raises(admin.exceptions.UserNotFoundException):
        admin.admin_get_user(UserPoolId=pool_id, Username=email)


def test_groups_reach_the_tokens(server, admin, cognito, pool_id, app_client):
    client_id, email = app_client["client_id"], "grouped@example.com"
    sign_up(server, cognito, client_id, email)
    admin.create_group(UserPoolId=pool_id, GroupName="editors", Description="Edit",
                       Precedence=1)
    with pytest.raises(admin.exceptions.GroupExistsException):
        admin.create_group(UserPoolId=pool_id, GroupName="editors")
    assert "editors" in [g["GroupName"] for g in admin.list_groups(UserPoolId=pool_id)["Groups"]]
    with pytest.raises(admin.exceptions.ResourceNotFoundException):
        admin.admin_add_user_to_group(UserPoolId=pool_id, Username=email, GroupName="nope")
    admin.admin_add_user_to_group(UserPoolId=pool_id, Username=email, GroupName="editors")
    listed = admin.admin_list_groups_for_user(UserPoolId=pool_id, Username=email)
    assert [g["GroupName"] for g in listed["Groups"]] == ["editors"]
    tokens = password_auth(cognito, client_id, email)["AuthenticationResult"]
    assert pool_claims(server, tokens["IdToken"], client_id)["cognito:groups"] == ["editors"]
    assert pool_claims(server, tokens["AccessToken"])["cognito:groups"] == ["editors"]
    admin.admin_remove_user_from_group(UserPoolId=pool_id, Username=email, GroupName="editors")
    time.sleep(1)  # a byte-identical signed request within the same second is a replay
    assert admin.admin_list_groups_for_user(UserPoolId=pool_id, Username=email)["Groups"] == []


def test_admin_initiate_auth_needs_the_admin_flow(server, admin, cognito, pool_id):
    allowed = make_client(server, "ADMIN_USER_PASSWORD_AUTH", name="Backend admin")
    refused = make_client(server, "USER_PASSWORD_AUTH", name="No admin flow")
    sign_up(server, cognito, allowed["client_id"], "backend@example.com")
    with pytest.raises(admin.exceptions.InvalidParameterException):
        admin.admin_initiate_auth(UserPoolId=pool_id, ClientId=refused["client_id"],
                                  AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                  AuthParameters={"USERNAME": "backend@example.com",
                                                  "PASSWORD": PASSWORD})
    with pytest.raises(admin.exceptions.NotAuthorizedException):
        admin.admin_initiate_auth(UserPoolId=pool_id, ClientId=allowed["client_id"],
                                  AuthFlow="ADMIN_NO_SRP_AUTH",
                                  AuthParameters={"USERNAME": "backend@example.com",
                                                  "PASSWORD": "wrong"})
    done = admin.admin_initiate_auth(UserPoolId=pool_id, ClientId=allowed["client_id"],
                                     AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                     AuthParameters={"USERNAME": "backend@example.com",
                                                     "PASSWORD": PASSWORD})
    assert done["AuthenticationResult"]["IdToken"]


def test_user_verifies_an_unverified_address_with_the_mailed_code(
        server, admin, cognito, pool_id, app_client):
    client_id, email = app_client["client_id"], "reverify@example.com"
    sign_up(server, cognito, client_id, email)
    access = password_auth(cognito, client_id, email)["AuthenticationResult"]["AccessToken"]
    with pytest.raises(cognito.exceptions.InvalidParameterException):  # verified already
        cognito.get_user_attribute_verification_code(AccessToken=access, AttributeName="email")
    admin.admin_update_user_attributes(UserPoolId=pool_id, Username=email, UserAttributes=[
        {"Name": "email_verified", "Value": "false"}])
    time.sleep(1.1)  # the mail cool-down of this server
    sent = cognito.get_user_attribute_verification_code(AccessToken=access,
                                                        AttributeName="email")
    assert sent["CodeDeliveryDetails"]["Destination"] == "r***@e***"
    with pytest.raises(cognito.exceptions.CodeMismatchException):
        cognito.verify_user_attribute(AccessToken=access, AttributeName="email", Code="000000")
    cognito.verify_user_attribute(AccessToken=access, AttributeName="email",
                                  Code=last_code(server, email))
    attributes = {a["Name"]: a["Value"] for a in
                  cognito.get_user(AccessToken=access)["UserAttributes"]}
    assert attributes["email_verified"] == "true"
