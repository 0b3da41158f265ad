"""InitiateAuth and RespondToAuthChallenge: the password and refresh flows, and the answers
to the challenges (new password, TOTP, MFA set-up). Passwords are checked by
app.accounts.authentication, the same rules, lockout and audit as the login page."""

from __future__ import annotations

from typing import Any

from app.accounts.authentication import check_password_login, record_mfa_failure
from app.accounts.lockout import clear_failures, is_locked
from app.accounts.mfa import read_totp_secret, verify_totp
from app.extensions import db, frontdesk_state
from app.models import PoolUser, User
from app.triggers import TriggerAbort
from app.userpool_api import passwords
from app.userpool_api.challenges import (
    AMR_TOTP,
    after_first_factor,
    after_new_password,
    close_session,
    count_failed_attempt,
    load_session,
    origin_of,
    session_user,
    signed_in,
)
from app.userpool_api.errors import (
    ApiError,
    invalid_parameter,
    not_authorized,
    optional_string,
    require_string,
)
from app.userpool_api.pool import (
    allowed_flows,
    app_client,
    check_secret_hash,
    normalize_flow,
    require_flow,
)
from app.userpool_api.srp_flow import session_of_block, start_srp, verify_srp
from app.userpool_api.tokens import refresh_token_usernames, refresh_tokens


def string_map(body: dict, name: str) -> dict[str, str]:
    value = body.get(name) or {}
    if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and len(v) <= 4096
            for k, v in value.items()):
        raise invalid_parameter(f"{name} must map strings to strings.")
    return value


def flow_of(body: dict) -> str:
    try:
        return normalize_flow(require_string(body, "AuthFlow", 64))
    except ValueError:
        raise invalid_parameter("1 validation error detected: Value at 'authFlow' failed to "
                                "satisfy constraint: Member must satisfy enum value set") from None


def with_refresh(pool_client) -> bool:
    return "REFRESH_TOKEN_AUTH" in allowed_flows(frontdesk_state().settings, pool_client)


def initiate_auth(body: dict) -> dict[str, Any]:
    client, pool_client = app_client(body.get("ClientId"))
    flow = flow_of(body)
    if flow == "ADMIN_USER_PASSWORD_AUTH":
        raise invalid_parameter("ADMIN_USER_PASSWORD_AUTH is an AdminInitiateAuth flow.")
    require_flow(pool_client, flow)
    params = string_map(body, "AuthParameters")
    if flow == "REFRESH_TOKEN_AUTH":
        return refresh_flow(client, pool_client, params)
    if flow == "USER_SRP_AUTH":
        return start_srp(client, pool_client, params)
    username = required_param(params, "USERNAME")
    check_secret_hash(client, pool_client, [username], params.get("SECRET_HASH"))
    return password_flow(client, pool_client, username, required_param(params, "PASSWORD"))


def required_param(params: dict[str, str], name: str) -> str:
    if not params.get(name):
        raise invalid_parameter(f"Missing required parameter {name}")
    return params[name]


def refresh_flow(client, pool_client, params: dict[str, str]) -> dict[str, Any]:
    raw = required_param(params, "REFRESH_TOKEN")
    if client.client_secret_hash:
        check_secret_hash(client, pool_client, [params.get("USERNAME", "")] +
                          refresh_token_usernames(raw), params.get("SECRET_HASH"))
    return {"ChallengeParameters": {}, "AuthenticationResult": refresh_tokens(client, raw)}


def password_flow(client, pool_client, username: str, password: str) -> dict[str, Any]:
    """USER_PASSWORD_AUTH (and the admin variant): the login page's rules, pool answers."""
    state = frontdesk_state()
    try:
        check = check_password_login(state.settings, state.store, username, password,
                                     origin_of(client.client_id))
    except TriggerAbort as exc:
        raise ApiError("UserLambdaValidationException",
                       f"PreAuthentication failed with error {exc}.") from None
    if check.status == "failed":
        raise not_authorized()
    if check.status == "unverified":
        raise ApiError("UserNotConfirmedException", "User is not confirmed.")
    passwords.ensure_verifier(check.user, password)
    return after_first_factor(client, check.user, ["pwd"], with_refresh(pool_client))


def get_tokens_from_refresh_token(body: dict) -> dict[str, Any]:
    """The refresh action of newer SDKs (Amplify 6 refreshes with it): a client with a
    secret sends the secret itself, not a SECRET_HASH."""
    client, pool_client = app_client(body.get("ClientId"))
    require_flow(pool_client, "REFRESH_TOKEN_AUTH")
    secret = optional_string(body, "ClientSecret", 512)
    if client.client_secret_hash and not client.secret_matches(secret):
        raise not_authorized(f"Unable to verify secret for client {client.client_id}")
    raw = require_string(body, "RefreshToken", 4096)
    return {"AuthenticationResult": refresh_tokens(client, raw)}


def respond_to_auth_challenge(body: dict) -> dict[str, Any]:
    client, pool_client = app_client(body.get("ClientId"))
    name = require_string(body, "ChallengeName", 64)
    answers = string_map(body, "ChallengeResponses")
    if name != "PASSWORD_VERIFIER" and name not in CHALLENGE_HANDLERS:
        raise invalid_parameter(f"Unsupported challenge {name}.")
    session_id = body.get("Session")
    if name == "PASSWORD_VERIFIER" and not session_id:
        session_id = session_of_block(answers.get("PASSWORD_CLAIM_SECRET_BLOCK"))
    session = load_session(session_id, client.client_id, name)
    if name == "PASSWORD_VERIFIER":  # the session may be a decoy: no user to load
        check_secret_hash(client, pool_client, [answers.get("USERNAME", ""),
                                                session["username"]], answers.get("SECRET_HASH"))
        return verify_srp(client, pool_client, session, answers, with_refresh(pool_client))
    user = session_user(session)
    check_secret_hash(client, pool_client, [answers.get("USERNAME", ""), user.id, user.email],
                      answers.get("SECRET_HASH"))
    return CHALLENGE_HANDLERS[name](client, pool_client, session, user, answers)


def _new_password(client, pool_client, session, user: User, answers) -> dict[str, Any]:
    password = required_param(answers, "NEW_PASSWORD")
    passwords.set_password(user, password)
    pool_user = db.session.get(PoolUser, user.id)
    if pool_user is not None:
        pool_user.force_password_change = False
    db.session.commit()
    close_session(session)
    return after_new_password(client, user, session["amr"], with_refresh(pool_client))


def _software_token_mfa(client, pool_client, session, user: User, answers) -> dict[str, Any]:
    state = frontdesk_state()
    code = required_param(answers, "SOFTWARE_TOKEN_MFA_CODE")
    secret = read_totp_secret(state.settings, user)
    if is_locked(state.store, user.email):
        close_session(session)
        raise not_authorized("Password attempts exceeded")
    if secret is None or not verify_totp(state.store, secret, user.id, code):
        record_mfa_failure(state.settings, state.store, user, origin_of(client.client_id))
        count_failed_attempt(session)
        raise ApiError("CodeMismatchException", "Invalid code received for user")
    close_session(session)
    clear_failures(state.store, user.email)
    return signed_in(client, user, AMR_TOTP, with_refresh(pool_client))


def _mfa_setup(client, pool_client, session, user: User, answers) -> dict[str, Any]:
    if not session.get("totp_verified"):
        raise invalid_parameter("Verify a software token (VerifySoftwareToken) first.")
    close_session(session)
    return signed_in(client, user, AMR_TOTP, with_refresh(pool_client))


CHALLENGE_HANDLERS = {
    "NEW_PASSWORD_REQUIRED": _new_password,
    "SOFTWARE_TOKEN_MFA": _software_token_mfa,
    "MFA_SETUP": _mfa_setup,
}
ACTIONS = {"InitiateAuth": initiate_auth, "RespondToAuthChallenge": respond_to_auth_challenge,
           "GetTokensFromRefreshToken": get_tokens_from_refresh_token}
