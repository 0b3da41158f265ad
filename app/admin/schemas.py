"""JSON Schemas (2020-12) of the admin API's bodies and resources.

The same dicts validate requests (app.admin.bodies) and make the OpenAPI document
(app.admin.openapi), so the document cannot drift from what the server accepts. The
`attributes` object is built from the attributes this deployment declares.
"""

from __future__ import annotations

from typing import Any

from app.accounts.attributes import AttributeSpec, attribute_specs
from app.accounts.groups import MAX_DESCRIPTION, MAX_PRECEDENCE
from app.config import Settings
from app.oauth.clients import AUTH_METHODS, GRANT_TYPES

DATETIME = {"type": "string", "format": "date-time"}
NULLABLE_DATETIME = {"type": ["string", "null"], "format": "date-time"}
EMAIL = {"type": "string", "minLength": 3, "maxLength": 320}
GROUP_NAME = {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.:@+-]{0,127}$"}
SCOPE_TOKEN = {"type": "string", "pattern": "^[!#-\\[\\]-~]{1,128}$"}
URI = {"type": "string", "minLength": 1, "maxLength": 2000}
CURSOR = {"type": ["string", "null"], "description": "Pass as `cursor` for the next page; "
          "null on the last page"}
STATUSES = ["enabled", "disabled"]


def _obj(properties: dict[str, Any], required: list[str] = (), **extra: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(required),
            "additionalProperties": False, **extra}


def _attribute_value(spec: AttributeSpec, *, nullable: bool) -> dict[str, Any]:
    kinds = {"string": "string", "number": "number", "boolean": "boolean",
             "datetime": "string"}
    schema: dict[str, Any] = {"type": [kinds[spec.type], "null"] if nullable
                              else kinds[spec.type]}
    if spec.type == "string":
        schema["maxLength"] = spec.max_length
        if spec.enum:
            schema["enum"] = [*spec.enum, None] if nullable else list(spec.enum)
    if spec.type == "datetime":
        schema["format"] = "date-time"
    if spec.type == "number":
        schema.update({k: v for k, v in (("minimum", spec.min), ("maximum", spec.max))
                       if v is not None})
    if not spec.mutable:
        schema["description"] = "Set once (at creation); cannot be changed afterwards"
    return schema


def attributes_schema(settings: Settings, *, nullable: bool) -> dict[str, Any]:
    """Standard profile attributes plus the declared custom ones; null removes (updates)."""
    return _obj({name: _attribute_value(spec, nullable=nullable)
                 for name, spec in attribute_specs(settings).items()})


def _user(settings: Settings) -> dict[str, Any]:
    return _obj({
        "id": {"type": "string", "description": "Stable subject identifier (`sub`)"},
        "email": {"type": "string"}, "email_verified": {"type": "boolean"},
        "status": {"type": "string", "enum": STATUSES},
        "mfa_enabled": {"type": "boolean"}, "has_password": {"type": "boolean"},
        "groups": {"type": "array", "items": {"type": "string"},
                   "description": "Group names by precedence"},
        "attributes": attributes_schema(settings, nullable=False),
        "created_at": DATETIME, "updated_at": NULLABLE_DATETIME,
        "last_login_at": NULLABLE_DATETIME,
    }, ["id", "email", "email_verified", "status", "mfa_enabled", "has_password", "groups",
        "attributes", "created_at", "updated_at", "last_login_at"])


def _user_create(settings: Settings) -> dict[str, Any]:
    return _obj({
        "email": EMAIL, "email_verified": {"type": "boolean", "default": False},
        "attributes": attributes_schema(settings, nullable=False),
        "groups": {"type": "array", "items": GROUP_NAME, "maxItems": 100,
                   "description": "Names of existing groups"},
        "password": {"type": "string", "minLength": 1, "maxLength": 256,
                     "description": "A password chosen for the user (password policy applies)"},
        "temporary_password": {"type": "boolean", "default": False, "description":
                               "Generate a password, returned once in the response"},
        "send_invitation": {"type": "boolean", "default": False, "description":
                            "Mail the user a link to choose a password"},
    }, ["email"])


def _user_update(settings: Settings) -> dict[str, Any]:
    return _obj({"email": EMAIL, "email_verified": {"type": "boolean"},
                 "attributes": attributes_schema(settings, nullable=True)},
                description="Only the fields given change; an attribute set to null is removed")


def _client_fields() -> dict[str, Any]:
    return {
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "logo_url": {"type": ["string", "null"], "maxLength": 2000},
        "redirect_uris": {"type": "array", "items": URI, "maxItems": 50},
        "post_logout_redirect_uris": {"type": "array", "items": URI, "maxItems": 50},
        "grant_types": {"type": "array", "items": {"type": "string", "enum": list(GRANT_TYPES)},
                        "minItems": 1, "uniqueItems": True},
        "scopes": {"type": "array", "items": SCOPE_TOKEN, "maxItems": 100},
        "first_party": {"type": "boolean"},
        "access_token_seconds": {"type": ["integer", "null"], "minimum": 300,
                                 "maximum": 86400},
        "refresh_token_seconds": {"type": ["integer", "null"], "minimum": 3600,
                                  "maximum": 315360000},
    }


def _client() -> dict[str, Any]:
    fields = _client_fields()
    fields.update({
        "client_id": {"type": "string"}, "public": {"type": "boolean"},
        "token_endpoint_auth_method": {"type": "string", "enum": list(AUTH_METHODS)},
        "created_at": DATETIME, "updated_at": NULLABLE_DATETIME})
    return _obj(fields, list(fields))


def _client_create() -> dict[str, Any]:
    fields = _client_fields()
    fields.update({
        "public": {"type": "boolean", "default": False},
        "token_endpoint_auth_method": {"type": "string", "enum": list(AUTH_METHODS)},
        "client_id": {"type": "string", "pattern": "^[A-Za-z0-9_.~-]{8,128}$",
                      "description": "Fixed id (config as code); generated when absent"},
        "jwks_uri": {"type": "string", "minLength": 1, "maxLength": 2000},
    })
    return _obj(fields, ["name"])


def _group() -> dict[str, Any]:
    return _obj({"name": {"type": "string"}, "description": {"type": "string"},
                 "precedence": {"type": "integer"}, "member_count": {"type": "integer"},
                 "created_at": DATETIME},
                ["name", "description", "precedence", "member_count", "created_at"])


def _group_fields() -> dict[str, Any]:
    return {"name": GROUP_NAME,
            "description": {"type": "string", "maxLength": MAX_DESCRIPTION},
            "precedence": {"type": "integer", "minimum": 0, "maximum": MAX_PRECEDENCE,
                           "description": "Lower comes first in the groups claim"}}


def _audit_event() -> dict[str, Any]:
    nullable = {"type": ["string", "null"]}
    return _obj({"id": {"type": "integer"}, "type": {"type": "string"},
                 "created_at": DATETIME, "user_id": nullable, "client_id": nullable,
                 "actor": nullable, "ip": nullable, "details": {"type": "object"}},
                ["id", "type", "created_at", "user_id", "client_id", "actor", "ip", "details"])


def _attribute_declaration() -> dict[str, Any]:
    number = {"type": ["number", "null"]}
    return _obj({
        "name": {"type": "string"}, "type": {"type": "string", "enum": [
            "string", "number", "boolean", "datetime"]},
        "required": {"type": "boolean"}, "mutable": {"type": "boolean"},
        "label": {"type": "string"}, "claim": {"type": ["string", "null"]},
        "scope": {"type": "string"}, "custom": {"type": "boolean"},
        "enum": {"type": "array", "items": {"type": "string"}},
        "max_length": {"type": "integer"}, "min": number, "max": number},
        ["name", "type", "required", "mutable", "label", "claim", "scope", "custom", "enum",
         "max_length", "min", "max"])


def _page(key: str, item: dict[str, Any]) -> dict[str, Any]:
    return _obj({key: {"type": "array", "items": item}, "next_cursor": CURSOR},
                [key, "next_cursor"])


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def build_schemas(settings: Settings) -> dict[str, dict[str, Any]]:
    """Every named schema; bodies are self-contained (no $ref) so they validate alone."""
    user = _user(settings)
    client = _client()
    created_extra = {"temporary_password": {"type": ["string", "null"]},
                     "invitation_sent": {"type": "boolean"}}
    member = _obj({"id": {"type": "string"}, "email": {"type": "string"}}, ["id", "email"])
    return {
        "User": user,
        "UserCreate": _user_create(settings),
        "UserCreated": _obj(user["properties"] | created_extra,
                            user["required"] + list(created_extra)),
        "UserUpdate": _user_update(settings),
        "UserList": _page("users", _ref("User")),
        "PasswordReset": _obj({"method": {"type": "string", "enum": [
            "email", "temporary_password"]}}),
        "PasswordResetResult": _obj({"method": {"type": "string", "enum": [
            "email", "temporary_password"]}, "temporary_password": {"type": ["string", "null"]}},
            ["method", "temporary_password"]),
        "SignOutResult": _obj({"sessions_ended": {"type": "integer"}}, ["sessions_ended"]),
        "AttributeList": _obj({"attributes": {"type": "array",
                                              "items": _attribute_declaration()}},
                              ["attributes"]),
        "Group": _group(),
        "GroupCreate": _obj(_group_fields(), ["name"]),
        "GroupUpdate": _obj(_group_fields()),
        "GroupList": _page("groups", _ref("Group")),
        "MemberList": _page("members", member),
        "Client": client,
        "ClientCreate": _client_create(),
        "ClientCreated": _obj(client["properties"] | {
            "client_secret": {"type": ["string", "null"]}},
            client["required"] + ["client_secret"]),
        "ClientUpdate": _obj(_client_fields()),
        "ClientList": _page("clients", _ref("Client")),
        "ClientSecret": _obj({"client_id": {"type": "string"},
                              "client_secret": {"type": "string"}},
                             ["client_id", "client_secret"]),
        "AuditEvent": _audit_event(),
        "AuditEventList": _page("events", _ref("AuditEvent")),
        "Problem": {"type": "object", "required": ["type", "title", "status"], "properties": {
            "type": {"type": "string"}, "title": {"type": "string"},
            "status": {"type": "integer"}, "detail": {"type": "string"},
            "instance": {"type": "string"},
            "errors": {"type": "object", "additionalProperties": {"type": "string"},
                       "description": "Field -> what is wrong with it"}}},
    }
