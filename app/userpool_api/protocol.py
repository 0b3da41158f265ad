"""The cognito-idp JSON 1.1 protocol: one POST endpoint, the action named by
`X-Amz-Target: AWSCognitoIdentityProviderService.<Action>`, a JSON object in and out, and
refusals as HTTP 400 `{"__type": "<Name>Exception", "message": ...}` from which the SDKs
pick the exception they raise. A backend failure is a 503 with Retry-After. Browsers
(Amplify) call it cross-origin: CORS for the origins of the app clients' redirect URIs
and the configured allow-list, without credentials."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, request
from sqlalchemy import select
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from app.accounts.throttle import ip_within_limit
from app.extensions import db, frontdesk_state
from app.models import Client
from app.store import StoreUnavailable
from app.userpool_api import account, auth_flows, mfa, users_public
from app.userpool_api.admin import ADMIN_ACTIONS, call_admin_action
from app.userpool_api.errors import ApiError

log = logging.getLogger("frontdesk.userpool_api")
bp = Blueprint("userpool_api", __name__, url_prefix="/cognito")
TARGET_PREFIX = "AWSCognitoIdentityProviderService."
CONTENT_TYPE = "application/x-amz-json-1.1"
PUBLIC_ACTIONS: dict[str, Callable[[dict], dict]] = {
    **auth_flows.ACTIONS, **users_public.ACTIONS, **account.ACTIONS, **mfa.ACTIONS}
#: Actions that guess at something (a password, a code) or send mail: the per-IP budget
#: of the hosted pages' form posts applies.
LIMITED_ACTIONS = frozenset({
    "InitiateAuth", "RespondToAuthChallenge", "GetTokensFromRefreshToken", "SignUp",
    "ConfirmSignUp",
    "ResendConfirmationCode", "ForgotPassword", "ConfirmForgotPassword", "ChangePassword",
    "VerifySoftwareToken", "VerifyUserAttribute", "GetUserAttributeVerificationCode",
    "AdminInitiateAuth", "AdminRespondToAuthChallenge"})
CORS_CACHE_KEY = "cors:userpool_origins"
CORS_CACHE_SECONDS = 60
ALLOWED_HEADERS = ("Content-Type, X-Amz-Target, X-Amz-User-Agent, X-Amz-Date, "
                   "X-Amz-Security-Token, X-Amz-Content-Sha256, Authorization, Cache-Control, "
                   "amz-sdk-invocation-id, amz-sdk-request")


def json_answer(body: dict[str, Any], status: int = 200) -> Response:
    response = Response(json.dumps(body, separators=(",", ":")), status=status,
                        content_type=CONTENT_TYPE)
    response.headers["Cache-Control"] = "no-store"
    return response


def _request_body() -> dict[str, Any]:
    try:
        body = json.loads(request.get_data(cache=True) or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise ApiError("SerializationException", "The request body is not JSON.") from None
    if not isinstance(body, dict):
        raise ApiError("SerializationException", "The request body must be a JSON object.")
    return body


def _action() -> str:
    target = request.headers.get("X-Amz-Target", "")
    if not target.startswith(TARGET_PREFIX):
        raise ApiError("UnknownOperationException", "X-Amz-Target must name an action of "
                       "AWSCognitoIdentityProviderService.")
    return target[len(TARGET_PREFIX):]


def _throttle(action: str) -> None:
    state = frontdesk_state()
    if action in LIMITED_ACTIONS and not ip_within_limit(state.store, state.settings,
                                                         request.remote_addr):
        raise ApiError("TooManyRequestsException", "Rate exceeded")


@bp.route("", methods=["POST", "OPTIONS"], strict_slashes=False)
def endpoint() -> Response:
    if request.method == "OPTIONS":
        return Response(status=204)
    action = _action()
    handler = PUBLIC_ACTIONS.get(action)
    if handler is None and action not in ADMIN_ACTIONS:
        raise ApiError("UnknownOperationException", f"{action} is not supported here.")
    body = _request_body()
    _throttle(action)
    if handler is None:
        return json_answer(call_admin_action(action, request.get_data(cache=True), body))
    return json_answer(handler(body))


@bp.errorhandler(ApiError)
def _refused(exc: ApiError) -> Response:
    return json_answer({"__type": exc.name, "message": exc.message}, exc.status)


def _unavailable(exc: Exception) -> Response:
    log.warning("backend unavailable: %s", exc.__class__.__name__)
    response = json_answer({"__type": "InternalErrorException", "message": "The service is "
                            "temporarily unavailable. Please try again."}, 503)
    response.headers["Retry-After"] = "5"
    return response


for _unavailable_error in (StoreUnavailable, OperationalError, InterfaceError, PoolTimeoutError):
    bp.register_error_handler(_unavailable_error, _unavailable)


def _all_client_origins() -> set[str]:
    store = frontdesk_state().store
    cached = store.get_json(CORS_CACHE_KEY)
    if cached is not None:
        return set(cached)
    origins: set[str] = set()
    for client in db.session.scalars(select(Client)):
        origins |= client.origins()
    store.set_json(CORS_CACHE_KEY, sorted(origins), CORS_CACHE_SECONDS)
    return origins


def _origin_allowed(origin: str) -> bool:
    settings = frontdesk_state().settings
    return origin in settings.csv("userpool_cors_origins") or origin in _all_client_origins()


@bp.after_request
def _cors(response: Response) -> Response:
    response.vary.add("Origin")
    origin = request.headers.get("Origin")
    if not origin or not _origin_allowed(origin):
        return response
    response.headers["Access-Control-Allow-Origin"] = origin
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "POST, GET, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        response.headers["Access-Control-Max-Age"] = "600"
    return response


