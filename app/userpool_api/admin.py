"""The admin actions: each signed with SigV4 by a key that holds the action's admin scope,
and naming this pool's UserPoolId. AdminInitiateAuth and AdminRespondToAuthChallenge are
the app-client flows for backends (ADMIN_USER_PASSWORD_AUTH, a client setting like any
flow)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.extensions import frontdesk_state
from app.userpool_api import admin_users, groups, list_users
from app.userpool_api.auth_flows import (
    flow_of,
    password_flow,
    refresh_flow,
    required_param,
    respond_to_auth_challenge,
    string_map,
)
from app.userpool_api.errors import ApiError, invalid_parameter
from app.userpool_api.pool import app_client, check_secret_hash, require_flow, user_pool_id
from app.userpool_api.sigv4 import SignedCaller, verify_signature


def admin_initiate_auth(body: dict, caller: SignedCaller) -> dict[str, Any]:
    client, pool_client = app_client(body.get("ClientId"))
    flow = flow_of(body)
    params = string_map(body, "AuthParameters")
    require_flow(pool_client, flow)
    if flow == "REFRESH_TOKEN_AUTH":
        return refresh_flow(client, pool_client, params)
    if flow != "ADMIN_USER_PASSWORD_AUTH":
        raise invalid_parameter(f"{flow} is not an AdminInitiateAuth flow here.")
    username = required_param(params, "USERNAME")
    check_secret_hash(client, pool_client, [username], params.get("SECRET_HASH"))
    return password_flow(client, pool_client, username, required_param(params, "PASSWORD"))


def admin_respond_to_auth_challenge(body: dict, caller: SignedCaller) -> dict[str, Any]:
    return respond_to_auth_challenge(body)


ADMIN_ACTIONS: dict[str, tuple[Callable[[dict, SignedCaller], dict], str]] = {
    **admin_users.ACTIONS, **list_users.ACTIONS, **groups.ACTIONS,
    "AdminInitiateAuth": (admin_initiate_auth, "admin:users:write"),
    "AdminRespondToAuthChallenge": (admin_respond_to_auth_challenge, "admin:users:write"),
}


def call_admin_action(action: str, raw_body: bytes, body: dict) -> dict[str, Any]:
    """Signature, scope, pool id, then the action."""
    handler, scope = ADMIN_ACTIONS[action]
    caller = verify_signature(raw_body)
    if scope not in caller.scopes:
        raise ApiError("AccessDeniedException", f"This key may not call {action}: it needs "
                       f"the scope {scope}.")
    pool_id = user_pool_id(frontdesk_state().settings)
    if body.get("UserPoolId") != pool_id:
        raise ApiError("ResourceNotFoundException",
                       f"User pool {str(body.get('UserPoolId'))[:64]} does not exist.")
    return handler(body, caller)
