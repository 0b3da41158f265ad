"""The OpenAPI 3.1 document of the admin API, served at /admin/api/v1/openapi.json.

Paths are declared here next to the schemas the views validate with; a test walks the URL
map to prove every route is documented and every documented operation exists.
"""

from __future__ import annotations

from typing import Any

from flask import Response, json

from app.admin.auth import SCOPES
from app.admin.blueprint import bp
from app.admin.schemas import GROUP_NAME, STATUSES, build_schemas
from app.config import Settings
from app.extensions import frontdesk_state

PREFIX = "/admin/api/v1"
PROBLEM = "application/problem+json"
PAGE_PARAMS = [
    {"name": "limit", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 50}},
    {"name": "cursor", "in": "query", "required": False,
     "schema": {"type": "string", "minLength": 1, "maxLength": 512}},
]
USER_QUERY = {
    "email": {"type": "string", "minLength": 1, "maxLength": 320,
              "description": "E-mail prefix, case-insensitive"},
    "status": {"type": "string", "enum": STATUSES},
    "group": {"type": "string", "minLength": 1, "maxLength": 128},
}
AUDIT_QUERY = {
    "type": {"type": "string", "minLength": 1, "maxLength": 64,
             "description": "Exact type, or a prefix ending in '.' (e.g. admin.user.)"},
    "user_id": {"type": "string", "minLength": 1, "maxLength": 36},
    "client_id": {"type": "string", "minLength": 1, "maxLength": 128},
    "since": {"type": "string", "format": "date-time"},
    "until": {"type": "string", "format": "date-time"},
}
PAGE_QUERY = {p["name"]: p["schema"] for p in PAGE_PARAMS}
ERRORS = {400: "Malformed request (JSON, query parameter, cursor, or a NUL character)",
          401: "No, invalid or expired access token", 403: "The token lacks the scope",
          404: "No such resource", 409: "Conflicts with an existing resource",
          415: "The body is not application/json", 422: "The body breaks the schema or a rule",
          503: "Temporarily unavailable"}


def _path_param(name: str, schema: dict | None = None) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True,
            "schema": schema or {"type": "string", "minLength": 1, "maxLength": 128}}


def _query(params: dict[str, dict]) -> list[dict[str, Any]]:
    return [{"name": n, "in": "query", "required": False, "schema": s}
            for n, s in params.items()]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _operation(op_id: str, summary: str, scope: str, ok: int, result: str | None, *,
               body: str | None = None, optional_body: bool = False,
               params: list | None = None, errors: tuple[int, ...] = ()) -> dict[str, Any]:
    responses: dict[str, Any] = {str(ok): {"description": "Success"}}
    if result:
        responses[str(ok)]["content"] = {"application/json": {"schema": _ref(result)}}
    codes = {400, 401, 403, 503, *errors} | ({415, 422} if body else set())
    for code in sorted(codes):
        responses[str(code)] = {"description": ERRORS[code],
                                "content": {PROBLEM: {"schema": _ref("Problem")}}}
    operation: dict[str, Any] = {"operationId": op_id, "summary": summary,
                                 "security": [{"frontdesk": [scope]}],
                                 "parameters": params or [], "responses": responses}
    if body:
        operation["requestBody"] = {"required": not optional_body, "content": {
            "application/json": {"schema": _ref(body)}}}
    return operation


USER_ID = _path_param("user_id", {"type": "string", "minLength": 1, "maxLength": 64})
GROUP = _path_param("group_name", {"type": "string", "minLength": 1, "maxLength": 128})
CLIENT_ID = _path_param("client_id")
READ, WRITE = "admin:users:read", "admin:users:write"


def _user_action(op_id: str, summary: str, result: str, **kw) -> dict[str, Any]:
    return {"post": _operation(op_id, summary, WRITE, 200, result, params=[USER_ID],
                               errors=(404,), **kw)}


def _user_paths() -> dict[str, Any]:
    return {
        "/users": {
            "get": _operation("listUsers", "List users (by e-mail)", READ, 200, "UserList",
                              params=_query(USER_QUERY) + PAGE_PARAMS),
            "post": _operation("createUser", "Create a user", WRITE, 201, "UserCreated",
                               body="UserCreate", errors=(409,))},
        "/users/{user_id}": {
            "get": _operation("getUser", "Get a user", READ, 200, "User", params=[USER_ID],
                              errors=(404,)),
            "patch": _operation("updateUser", "Change e-mail, verification or attributes",
                                WRITE, 200, "User", body="UserUpdate", params=[USER_ID],
                                errors=(404, 409)),
            "delete": _operation("deleteUser", "Delete a user, their sessions and tokens",
                                 WRITE, 204, None, params=[USER_ID], errors=(404,))},
        "/users/{user_id}/disable": _user_action(
            "disableUser", "Disable: no login; sessions and refresh tokens ended", "User"),
        "/users/{user_id}/enable": _user_action("enableUser", "Enable a disabled user", "User"),
        "/users/{user_id}/reset-password": _user_action(
            "resetUserPassword", "Mail a reset code, or set a temporary password",
            "PasswordResetResult", body="PasswordReset", optional_body=True),
        "/users/{user_id}/sign-out": _user_action(
            "signOutUser", "End every session and refresh token of the user", "SignOutResult"),
        "/users/{user_id}/reset-mfa": _user_action(
            "resetUserMfa", "Remove the TOTP enrolment and recovery codes", "User"),
        "/attributes": {"get": _operation("listAttributes", "Attributes users may have",
                                          READ, 200, "AttributeList")},
    }


def _group_paths() -> dict[str, Any]:
    scope = "admin:groups"
    member = [GROUP, USER_ID]
    return {
        "/groups": {
            "get": _operation("listGroups", "List groups by name", scope, 200, "GroupList",
                              params=PAGE_PARAMS),
            "post": _operation("createGroup", "Create a group", scope, 201, "Group",
                               body="GroupCreate", errors=(409,))},
        "/groups/{group_name}": {
            "get": _operation("getGroup", "Get a group", scope, 200, "Group", params=[GROUP],
                              errors=(404,)),
            "patch": _operation("updateGroup", "Rename, describe or reorder a group", scope,
                                200, "Group", body="GroupUpdate", params=[GROUP],
                                errors=(404, 409)),
            "delete": _operation("deleteGroup", "Delete a group (members stay)", scope, 204,
                                 None, params=[GROUP], errors=(404,))},
        "/groups/{group_name}/members": {
            "get": _operation("listGroupMembers", "Members by e-mail", scope, 200,
                              "MemberList", params=[GROUP, *PAGE_PARAMS], errors=(404,))},
        "/groups/{group_name}/members/{user_id}": {
            "put": _operation("addGroupMember", "Add a user (idempotent)", scope, 204, None,
                              params=member, errors=(404,)),
            "delete": _operation("removeGroupMember", "Remove a user (idempotent)", scope,
                                 204, None, params=member, errors=(404,))},
    }


def _client_paths() -> dict[str, Any]:
    scope = "admin:clients"
    return {
        "/clients": {
            "get": _operation("listClients", "List clients", scope, 200, "ClientList",
                              params=PAGE_PARAMS),
            "post": _operation("createClient", "Register a client (secret shown once)", scope,
                               201, "ClientCreated", body="ClientCreate", errors=(409,))},
        "/clients/{client_id}": {
            "get": _operation("getClient", "Get a client", scope, 200, "Client",
                              params=[CLIENT_ID], errors=(404,)),
            "patch": _operation("updateClient", "Change a client", scope, 200, "Client",
                                body="ClientUpdate", params=[CLIENT_ID], errors=(404,)),
            "delete": _operation("deleteClient", "Delete a client and its tokens", scope, 204,
                                 None, params=[CLIENT_ID], errors=(404,))},
        "/clients/{client_id}/rotate-secret": {
            "post": _operation("rotateClientSecret", "New secret (old one stops at once)",
                               scope, 200, "ClientSecret", params=[CLIENT_ID],
                               errors=(404, 409))},
        "/audit-events": {
            "get": _operation("listAuditEvents", "Audit events, newest first",
                              "admin:audit:read", 200, "AuditEventList",
                              params=_query(AUDIT_QUERY) + PAGE_PARAMS)},
    }


def build_document(settings: Settings) -> dict[str, Any]:
    paths = _user_paths() | _group_paths() | _client_paths()
    paths["/openapi.json"] = {"get": {
        "operationId": "getOpenApi", "summary": "This document", "security": [],
        "responses": {"200": {"description": "OpenAPI 3.1",
                              "content": {"application/json": {"schema": {"type": "object"}}}}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Frontdesk admin API", "version": "1.0.0",
                 "description": "Users, groups, clients and the audit log. Authorize with an "
                                "access token of the client_credentials grant; errors are "
                                "RFC 9457 problem details."},
        "servers": [{"url": settings.issuer + PREFIX}],
        "security": [{"frontdesk": []}],
        "paths": paths,
        "components": {
            "schemas": build_schemas(settings),
            "securitySchemes": {"frontdesk": {"type": "oauth2", "flows": {
                "clientCredentials": {"tokenUrl": settings.issuer + "/oauth2/token",
                                      "scopes": dict(SCOPES)}}}}},
    }


def admin_schemas() -> dict[str, dict[str, Any]]:
    """Schemas of this app (built once per app: they depend on its settings)."""
    state = frontdesk_state()
    if "admin_schemas" not in state.extras:
        state.extras["admin_schemas"] = build_schemas(state.settings)
    return state.extras["admin_schemas"]


@bp.get("/openapi.json")
def openapi() -> Response:
    """The document itself needs no token."""
    state = frontdesk_state()
    if "admin_openapi" not in state.extras:
        state.extras["admin_openapi"] = json.dumps(build_document(state.settings))
    response = Response(state.extras["admin_openapi"], mimetype="application/json")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


__all__ = ["AUDIT_QUERY", "GROUP_NAME", "PAGE_QUERY", "USER_QUERY", "admin_schemas",
           "build_document", "openapi"]
