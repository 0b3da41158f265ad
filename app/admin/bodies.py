"""Reading requests: JSON bodies checked against the very schemas the OpenAPI document
publishes (one source of truth), query parameters, opaque pagination cursors."""

from __future__ import annotations

import base64
import binascii
import json
from functools import lru_cache
from typing import Any

import jsonschema_rs
from flask import request

from app.admin.problems import Problem, malformed, validation_problem

MESSAGES = {
    "required": "is required", "additionalProperties": "is not a known field",
    "type": "has the wrong type", "enum": "is not one of the allowed values",
    "minLength": "is too short", "maxLength": "is too long", "pattern": "has an invalid form",
    "minimum": "is too small", "maximum": "is too large", "minItems": "has too few items",
    "maxItems": "has too many items", "uniqueItems": "has duplicate items",
    "format": "has an invalid format", "minProperties": "is empty",
    "maxProperties": "has too many entries", "propertyNames": "has an invalid key",
}


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


@lru_cache(maxsize=64)
def _validator(schema_json: str) -> jsonschema_rs.Draft202012Validator:
    return jsonschema_rs.Draft202012Validator(json.loads(schema_json))


def _field(error: jsonschema_rs.ValidationError) -> tuple[str, str]:
    path = [str(p) for p in error.instance_path]
    keyword = next((str(k) for k in reversed(list(error.schema_path))
                    if str(k) in MESSAGES), "")
    kind = error.kind
    if keyword == "required" and getattr(kind, "property", None) is not None:
        path.append(str(kind.property))
    if keyword == "additionalProperties" and getattr(kind, "unexpected", None):
        path.append(str(list(kind.unexpected)[0]))
    return "/".join(path) or "(body)", MESSAGES.get(keyword, "is not valid")


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def reject_nul_characters() -> None:
    """NUL never belongs in an e-mail, a name or an id, and PostgreSQL cannot store it:
    refuse it in the path and the query (400) before anything reaches the database."""
    if "\x00" in request.path or _has_nul([item for pair in request.args.items(multi=True)
                                           for item in pair]):
        raise malformed("The request contains a NUL character.")


def check_schema(schema: dict, value: Any) -> None:
    """Problem 422 naming every offending field (values are never echoed)."""
    errors: dict[str, str] = {}
    for error in _validator(json.dumps(schema, sort_keys=True)).iter_errors(value):
        name, message = _field(error)
        errors.setdefault(name, message)
    if errors:
        raise validation_problem(errors)


def json_body(schema: dict, *, optional: bool = False) -> dict[str, Any]:
    """The request's JSON object, validated; {} for an absent optional body."""
    raw = request.get_data(cache=True)
    if not raw.strip() and optional:
        return {}
    if request.mimetype != "application/json":
        raise Problem(415, "Unsupported Media Type", "Send a JSON body (application/json).")
    try:
        body = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise malformed("The body is not valid JSON.") from None
    check_schema(schema, body)
    if _has_nul(body):
        raise validation_problem({"(body)": "contains a NUL character"})
    return body


def query_params(schema: dict) -> dict[str, Any]:
    """Query parameters (each at most once) converted by the type its schema declares."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, spec in schema.items():
        given = request.args.getlist(name)
        if not given:
            continue
        if len(given) > 1:
            errors[name] = "is given more than once"
            continue
        values[name] = _convert(spec, given[0], name, errors)
    if errors:
        raise Problem(400, "Bad Request", "Invalid query parameters.", errors=errors,
                      type_="urn:frontdesk:problem:malformed-request")
    check_query(schema, values)
    return values


def _convert(spec: dict, raw: str, name: str, errors: dict[str, str]) -> Any:
    if spec.get("type") == "integer":
        try:
            return int(raw)
        except ValueError:
            errors[name] = "must be a whole number"
            return None
    return raw


def check_query(schema: dict, values: dict[str, Any]) -> None:
    object_schema = {"type": "object", "properties": schema}
    errors = {}
    for error in _validator(json.dumps(object_schema, sort_keys=True)).iter_errors(values):
        name, message = _field(error)
        errors.setdefault(name, message)
    if errors:
        raise Problem(400, "Bad Request", "Invalid query parameters.", errors=errors,
                      type_="urn:frontdesk:problem:malformed-request")


def encode_cursor(*key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, kind: type = str) -> list[Any] | None:
    """The key of the last item of the previous page, or Problem 400."""
    if cursor is None:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        key = None
    if not isinstance(key, list) or len(key) != 1 or not isinstance(key[0], kind) or \
            isinstance(key[0], bool) or (kind is int and not 0 < key[0] < 2**63):
        raise malformed("The cursor is not valid; start again without it.")
    return key
