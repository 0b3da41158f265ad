"""What a signed-in user does with an access token of the pool: read and change their
attributes and password, sign out everywhere, revoke a refresh token, delete the account."""

from __future__ import annotations

from typing import Any

from app.accounts.attributes import AttributeValidationError, merge_attributes, validate_attributes
from app.accounts.codes import CodeError, live_flow
from app.accounts.lockout import is_locked, record_failure
from app.accounts.notify import send_account_mail
from app.accounts.portability import verify_and_upgrade_password
from app.accounts.signup import confirm_signup, start_email_verification
from app.extensions import db, frontdesk_state
from app.mail import issuer_url
from app.models import User, record_event
from app.oauth.logout import end_everything
from app.userpool_api import passwords
from app.userpool_api.attributes import (
    READ_ONLY,
    attribute_list,
    delivery,
    parse_attribute_list,
)
from app.userpool_api.challenges import origin_of
from app.userpool_api.errors import (
    ApiError,
    invalid_parameter,
    not_authorized,
    optional_string,
    require_string,
)
from app.userpool_api.pool import app_client
from app.userpool_api.tokens import read_pool_access_token, revoke_refresh_token
from app.userpool_api.users_public import code_error


def token_user(body: dict) -> tuple[User, dict[str, Any]]:
    """The user of the request's AccessToken, enabled, and the token's claims."""
    claims = read_pool_access_token(body.get("AccessToken"))
    user = db.session.get(User, str(claims.get("sub")))
    if user is None:
        raise ApiError("UserNotFoundException", "User does not exist.")
    if not user.is_enabled:
        raise not_authorized("User is disabled.")
    return user, claims


def mfa_settings(user: User) -> dict[str, Any]:
    if not user.totp_enabled:
        return {}
    return {"PreferredMfaSetting": "SOFTWARE_TOKEN_MFA",
            "UserMFASettingList": ["SOFTWARE_TOKEN_MFA"]}


def get_user(body: dict) -> dict[str, Any]:
    user, _ = token_user(body)
    return {"Username": user.id, "UserAttributes": attribute_list(user), **mfa_settings(user)}


def update_user_attributes(body: dict) -> dict[str, Any]:
    user, claims = token_user(body)
    changes = parse_attribute_list(body.get("UserAttributes"))
    if not changes:
        raise invalid_parameter("UserAttributes must name at least one attribute.")
    if changes.get("email", user.email).lower() != user.email.lower():
        raise invalid_parameter("The email address is changed through the account page or "
                                "an administrator here, not by UpdateUserAttributes.")
    changes.pop("email", None)
    if READ_ONLY & set(changes):
        raise not_authorized("A client attempted to write unauthorized attribute")
    user.attributes = merge_attributes(user.attributes, _validated(user, changes, claims))
    record_event("attributes_updated", user_id=user.id, client_id=claims.get("client_id"),
                 names=sorted(changes), via="userpool_api")
    db.session.commit()
    return {"CodeDeliveryDetailsList": []}


def _validated(user: User, changes: dict[str, str], claims: dict) -> dict[str, Any]:
    try:
        return validate_attributes(frontdesk_state().settings, changes, for_create=False,
                                   current=user.attributes, client_id=claims.get("client_id"))
    except AttributeValidationError as exc:
        raise invalid_parameter(str(exc)) from None


def _email_attribute(body: dict) -> None:
    if require_string(body, "AttributeName", 64) != "email":
        raise invalid_parameter("Only the email attribute is verified here.")


def get_user_attribute_verification_code(body: dict) -> dict[str, Any]:
    """A code by mail to confirm the account's address (the hosted pages' verification)."""
    user, _ = token_user(body)
    _email_attribute(body)
    if user.email_verified:
        raise invalid_parameter("The email address is already verified.")
    state = frontdesk_state()
    start_email_verification(state.settings, state.store, user)
    return {"CodeDeliveryDetails": delivery(user.email)}


def verify_user_attribute(body: dict) -> dict[str, Any]:
    user, claims = token_user(body)
    _email_attribute(body)
    code = require_string(body, "Code", 32)
    state = frontdesk_state()
    flow = live_flow(state.store, "signup", user.email)
    if flow is None or flow.data.get("user_id") != user.id:
        raise code_error(CodeError("expired"))
    try:
        confirm_signup(state.settings, state.store, flow.id, code,
                       origin_of(claims.get("client_id")))
    except CodeError as exc:
        raise code_error(exc) from None
    return {}


def change_password(body: dict) -> dict[str, Any]:
    """The current password under the login lockout, then the new one; every other session
    and token of the user ends, as on the account page."""
    user, claims = token_user(body)
    previous = require_string(body, "PreviousPassword", 256)
    proposed = require_string(body, "ProposedPassword", 256)
    state = frontdesk_state()
    if is_locked(state.store, user.email):
        raise ApiError("LimitExceededException", "Attempt limit exceeded, please try after "
                                                  "some time.")
    if not verify_and_upgrade_password(state.settings, user, previous):
        record_failure(state.store, state.settings, user.email)
        raise not_authorized()
    passwords.set_password(user, proposed)
    record_event("password_changed", user_id=user.id, client_id=claims.get("client_id"),
                 ip=origin_of(None).ip, via="userpool_api")
    db.session.commit()
    end_everything(user.id)
    send_account_mail("password_changed", user.email,
                      link=issuer_url(state.settings, "hosted.password_forgot"))
    return {}


def global_sign_out(body: dict) -> dict[str, Any]:
    user, claims = token_user(body)
    end_everything(user.id)
    record_event("signed_out_everywhere", user_id=user.id, client_id=claims.get("client_id"),
                 ip=origin_of(None).ip, via="userpool_api")
    db.session.commit()
    return {}


def revoke_token(body: dict) -> dict[str, Any]:
    """A refresh token's family, and the access tokens issued from it; a client with a
    secret sends it (ClientSecret), as the pool asks."""
    client, _ = app_client(body.get("ClientId"))
    secret = optional_string(body, "ClientSecret", 512)
    if client.client_secret_hash and not client.secret_matches(secret):
        raise ApiError("UnauthorizedException", "Client authentication failed.")
    revoke_refresh_token(client, require_string(body, "Token", 4096))
    return {}


def delete_user(body: dict) -> dict[str, Any]:
    user, claims = token_user(body)
    end_everything(user.id)
    record_event("user_deleted", user_id=user.id, client_id=claims.get("client_id"),
                 ip=origin_of(None).ip, email=user.email, via="userpool_api")
    db.session.delete(user)
    db.session.commit()
    return {}


ACTIONS = {
    "GetUser": get_user, "UpdateUserAttributes": update_user_attributes,
    "ChangePassword": change_password, "GlobalSignOut": global_sign_out,
    "RevokeToken": revoke_token, "DeleteUser": delete_user,
    "GetUserAttributeVerificationCode": get_user_attribute_verification_code,
    "VerifyUserAttribute": verify_user_attribute,
}
