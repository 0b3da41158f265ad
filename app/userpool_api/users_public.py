"""Sign-up, confirmation and forgotten passwords for an app client: the hosted pages' rules
(app.accounts.signup, app.accounts.password_reset) with the pool's answers. An address that
has an account gets the same answers as a new one (its owner is told by mail), so none of
these actions tells whether an account exists."""

from __future__ import annotations

from typing import Any

from app.accounts.attributes import AttributeValidationError
from app.accounts.codes import CodeError, live_flow
from app.accounts.password_reset import reset_password, start_password_reset
from app.accounts.signup import (
    SignupRequest,
    confirm_signup,
    resend_code,
    start_email_verification,
    start_signup,
)
from app.accounts.users import UserError, normalize_email
from app.extensions import db, frontdesk_state
from app.models import User
from app.models._types import new_id
from app.oauth.logout import end_everything
from app.triggers import TriggerAbort
from app.userpool_api import passwords
from app.userpool_api.attributes import delivery, parse_attribute_list
from app.userpool_api.challenges import origin_of
from app.userpool_api.errors import ApiError, invalid_parameter, require_string
from app.userpool_api.pool import app_client, check_secret_hash

PENDING_VERIFIER_PREFIX = "upsrp:"
CODE_ERRORS = {
    "invalid": ("CodeMismatchException", "Invalid verification code provided, please try "
                                         "again."),
    "expired": ("ExpiredCodeException", "Invalid code provided, please request a code "
                                        "again."),
    "exhausted": ("TooManyFailedAttemptsException", "Too many failed attempts; request a "
                                                    "new code."),
}


def code_error(exc: CodeError) -> ApiError:
    name, message = CODE_ERRORS.get(exc.reason, CODE_ERRORS["invalid"])
    return ApiError(name, message)


def _client_and_email(body: dict) -> tuple[Any, str]:
    client, pool_client = app_client(body.get("ClientId"))
    username = require_string(body, "Username", 320)
    check_secret_hash(client, pool_client, [username], body.get("SecretHash"))
    try:
        return client, normalize_email(username)
    except UserError:
        raise invalid_parameter("Username should be an email.") from None


def sign_up(body: dict) -> dict[str, Any]:
    client, email = _client_and_email(body)
    password = require_string(body, "Password", 256)
    attributes = parse_attribute_list(body.get("UserAttributes"))
    if attributes.pop("email", email).lower() != email.lower():
        raise invalid_parameter("The email attribute must be the username.")
    passwords.require_policy(password, email)
    state = frontdesk_state()
    try:
        started = start_signup(state.settings, state.store,
                               SignupRequest(email, password, attributes),
                               origin_of(client.client_id))
    except AttributeValidationError as exc:
        raise invalid_parameter(str(exc)) from None
    except TriggerAbort as exc:
        raise ApiError("UserLambdaValidationException",
                       f"PreSignUp failed with error {exc}.") from None
    user_id = started.user_id or new_id()  # an existing address: a sub never used
    if started.flow_id is None:  # confirmed by the pre_sign_up trigger
        created = db.session.get(User, user_id)
        if created is not None:
            passwords.ensure_verifier(created, password)
        return {"UserConfirmed": True, "UserSub": user_id}
    state.store.set(PENDING_VERIFIER_PREFIX + user_id, passwords.sealed_verifier(
        user_id, password), state.settings.code_ttl_seconds)
    return {"UserConfirmed": False, "UserSub": user_id, "CodeDeliveryDetails": delivery(email)}


def confirm_sign_up(body: dict) -> dict[str, Any]:
    client, email = _client_and_email(body)
    code = require_string(body, "ConfirmationCode", 32)
    state = frontdesk_state()
    flow = live_flow(state.store, "signup", email)
    try:
        user = confirm_signup(state.settings, state.store, flow.id if flow else None, code,
                              origin_of(client.client_id))
    except CodeError as exc:
        raise code_error(exc) from None
    sealed = state.store.pop(PENDING_VERIFIER_PREFIX + user.id)
    if sealed is not None:
        passwords.pool_user(user.id).srp_verifier = sealed
        db.session.commit()
    return {}


def resend_confirmation_code(body: dict) -> dict[str, Any]:
    """A new code for a pending sign-up, or a first one for an unconfirmed account; for
    anything else nothing is sent and the answer is the same."""
    client, email = _client_and_email(body)
    state = frontdesk_state()
    flow = live_flow(state.store, "signup", email)
    if flow is not None:
        if not resend_code(state.settings, state.store, flow.id):
            raise ApiError("LimitExceededException", "Attempt limit exceeded, please try "
                                                     "after some time.")
    else:
        user = User.find_by_email(email)
        if user is not None and user.is_enabled and not user.email_verified:
            start_email_verification(state.settings, state.store, user)
    return {"CodeDeliveryDetails": delivery(email)}


def forgot_password(body: dict) -> dict[str, Any]:
    _, email = _client_and_email(body)
    state = frontdesk_state()
    start_password_reset(state.settings, state.store, email)
    return {"CodeDeliveryDetails": delivery(email)}


def confirm_forgot_password(body: dict) -> dict[str, Any]:
    client, email = _client_and_email(body)
    code = require_string(body, "ConfirmationCode", 32)
    password = require_string(body, "Password", 256)
    passwords.require_policy(password, email)
    state = frontdesk_state()
    flow = live_flow(state.store, "reset", email)
    try:
        user = reset_password(state.settings, state.store, flow.id if flow else None, code,
                              password, origin_of(client.client_id))
    except CodeError as exc:
        raise code_error(exc) from None
    row = passwords.pool_user(user.id)
    row.srp_verifier = passwords.sealed_verifier(user.id, password)
    row.force_password_change = False
    db.session.commit()
    end_everything(user.id)
    return {}


ACTIONS = {
    "SignUp": sign_up, "ConfirmSignUp": confirm_sign_up,
    "ResendConfirmationCode": resend_confirmation_code, "ForgotPassword": forgot_password,
    "ConfirmForgotPassword": confirm_forgot_password,
}
