"""User attributes: the OIDC standard profile ones and custom ones declared in configuration.

FRONTDESK_CUSTOM_ATTRIBUTES holds a JSON list of declarations (docs/admin-api.md):
  {"name": "plan", "type": "string", "required": false, "mutable": true,
   "claim": "plan", "scope": "profile", "access_token": false,
   "read_clients": ["*"], "write_clients": ["*"], "label": "Plan",
   "max_length": 64, "enum": ["free", "pro"], "min": null, "max": null}
Every write (admin API, import, sign-up) goes through validate_attributes(); values are
stored in User.attributes, datetimes as ISO 8601 UTC strings ("2024-05-01T12:00:00Z").
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from app.accounts.users import UserError
from app.config import ConfigError, Settings
from app.triggers import PROTECTED_CLAIMS

TYPES = ("string", "number", "boolean", "datetime")
# OIDC Core §5.1 claims kept in User.attributes: strings, but phone_number_verified;
# `address` is kept as its `formatted` string.
STANDARD_ATTRIBUTES = ("name", "given_name", "family_name", "middle_name", "nickname",
                       "preferred_username", "profile", "picture", "website", "gender",
                       "birthdate", "zoneinfo", "locale", "phone_number",
                       "phone_number_verified", "address")
STANDARD_TYPES = {"phone_number_verified": "boolean"}
RESERVED_CLAIMS = PROTECTED_CLAIMS | {"email", "email_verified", "updated_at", "groups"} | \
    set(STANDARD_ATTRIBUTES)
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
CLAIM_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_:.\-/]{0,127}$")
TRUE_WORDS = {"true", "1", "yes", "on"}
FALSE_WORDS = {"false", "0", "no", "off"}
SETTING = "FRONTDESK_CUSTOM_ATTRIBUTES"


class AttributeValidationError(UserError):
    """One message per offending attribute in `errors` (name -> message)."""

    def __init__(self, errors: dict[str, str]):
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


@dataclass(frozen=True)
class AttributeSpec:
    name: str
    type: str = "string"
    required: bool = False
    mutable: bool = True
    claim: str | None = None
    scope: str = "profile"
    access_token: bool = False
    read_clients: tuple[str, ...] = ("*",)
    write_clients: tuple[str, ...] = ("*",)
    label: str = ""
    max_length: int = 2048
    enum: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    custom: bool = field(default=True, compare=False)

    def can_read(self, client_id: str | None) -> bool:
        return "*" in self.read_clients or client_id in self.read_clients

    def can_write(self, client_id: str | None) -> bool:
        return "*" in self.write_clients or client_id in self.write_clients

    def describe(self) -> dict[str, Any]:
        """JSON-able description (admin API, sign-up form)."""
        return {"name": self.name, "type": self.type, "required": self.required,
                "mutable": self.mutable, "label": self.label or _label(self.name),
                "claim": self.claim, "scope": self.scope, "custom": self.custom,
                "enum": list(self.enum), "max_length": self.max_length,
                "min": self.min, "max": self.max}


def _label(name: str) -> str:
    return name.replace("_", " ").capitalize()


# --- declarations ---------------------------------------------------------------------------

_KEYS = {"name", "type", "required", "mutable", "claim", "scope", "access_token",
         "read_clients", "write_clients", "label", "max_length", "enum", "min", "max"}


def _fail(index: int, message: str) -> ConfigError:
    return ConfigError(f"{SETTING}[{index}]: {message}")


def _check_declaration_types(i: int, item: dict) -> None:
    for key in ("required", "mutable", "access_token"):
        if not isinstance(item.get(key, False), bool):
            raise _fail(i, f"{key} must be true or false")
    for key in ("read_clients", "write_clients", "enum"):
        value = item.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _fail(i, f"{key} must be a list of strings")
    for key in ("min", "max"):
        value = item.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise _fail(i, f"{key} must be a number")
    if not isinstance(item.get("label", ""), str):
        raise _fail(i, "label must be a string")
    max_length = item.get("max_length", 1)
    if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 1:
        raise _fail(i, "max_length must be a positive whole number")


def _parse_one(i: int, item: Any) -> AttributeSpec:
    if not isinstance(item, dict):
        raise _fail(i, "each declaration is a JSON object")
    unknown = set(item) - _KEYS
    if unknown:
        raise _fail(i, f"unknown keys {sorted(unknown)}")
    name = item.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name) or name in STANDARD_ATTRIBUTES:
        raise _fail(i, f"invalid or reserved attribute name {name!r}")
    if item.get("type", "string") not in TYPES:
        raise _fail(i, f"type must be one of {', '.join(TYPES)}")
    _check_declaration_types(i, item)
    claim = item.get("claim", name)
    if claim is not None and (not isinstance(claim, str) or not CLAIM_RE.match(claim)
                              or claim in RESERVED_CLAIMS):
        raise _fail(i, f"invalid or reserved claim name {claim!r}")
    if not isinstance(item.get("scope", "profile"), str) or not item.get("scope", "profile"):
        raise _fail(i, "scope must be a scope name")
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in item.items()}
    values["claim"] = claim
    return AttributeSpec(**values)


@lru_cache(maxsize=16)
def parse_custom_attributes(raw: str) -> tuple[AttributeSpec, ...]:
    """Parse and check the declarations; a mistake names the setting and the index."""
    if not raw.strip():
        return ()
    try:
        items = json.loads(raw)
    except ValueError as exc:
        raise ConfigError(f"{SETTING} is not valid JSON: {exc}") from None
    if not isinstance(items, list):
        raise ConfigError(f"{SETTING} must be a JSON list")
    specs = tuple(_parse_one(i, item) for i, item in enumerate(items))
    names = [s.name for s in specs]
    claims = [s.claim for s in specs if s.claim]
    if len(set(names)) != len(names) or len(set(claims)) != len(claims):
        raise ConfigError(f"{SETTING}: attribute and claim names must be unique")
    return specs


def custom_attributes(settings: Settings) -> tuple[AttributeSpec, ...]:
    return parse_custom_attributes(settings.custom_attributes)


def attribute_specs(settings: Settings) -> dict[str, AttributeSpec]:
    """Every attribute a user may have: standard profile ones, then custom ones."""
    specs = {n: AttributeSpec(n, type=STANDARD_TYPES.get(n, "string"), custom=False)
             for n in STANDARD_ATTRIBUTES}
    specs.update({s.name: s for s in custom_attributes(settings)})
    return specs


def signup_attributes(settings: Settings, client_id: str | None = None) -> list[AttributeSpec]:
    """Attributes the sign-up form asks for: FRONTDESK_SIGNUP_REQUIRED_ATTRIBUTES (standard)
    plus custom ones declared required (only those the client may write, if given)."""
    specs = attribute_specs(settings)
    wanted = [replace(specs[n], required=True)
              for n in settings.csv("signup_required_attributes") if n in STANDARD_ATTRIBUTES]
    wanted += [s for s in specs.values() if s.custom and s.required]
    return [s for s in wanted if client_id is None or s.can_write(client_id)]


# --- values ---------------------------------------------------------------------------------


def _clean_string(spec: AttributeSpec, value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a string")
    value = value.strip()
    if len(value) > spec.max_length:
        raise ValueError(f"must be at most {spec.max_length} characters")
    if spec.enum and value not in spec.enum:
        raise ValueError("must be one of " + ", ".join(spec.enum))
    return value


def _clean_number(spec: AttributeSpec, value: Any) -> int | float:
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise ValueError("must be a number") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number")
    try:
        if not math.isfinite(float(value)):
            raise ValueError("must be a finite number")
    except OverflowError:
        raise ValueError("is too large") from None
    if spec.min is not None and value < spec.min:
        raise ValueError(f"must be at least {spec.min:g}")
    if spec.max is not None and value > spec.max:
        raise ValueError(f"must be at most {spec.max:g}")
    return int(value) if float(value).is_integer() and abs(value) < 2**53 else float(value)


def _clean_boolean(spec: AttributeSpec, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS | FALSE_WORDS:
        return value.strip().lower() in TRUE_WORDS
    raise ValueError("must be true or false")


def _clean_datetime(spec: AttributeSpec, value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 date-time string")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError("must be an ISO 8601 date-time, e.g. 2024-05-01T12:00:00Z") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


CLEANERS = {"string": _clean_string, "number": _clean_number, "boolean": _clean_boolean,
            "datetime": _clean_datetime}


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _clean_one(spec: AttributeSpec, value: Any, *, for_create: bool, current: dict,
               client_id: str | None) -> Any:
    if client_id is not None and not spec.can_write(client_id):
        raise ValueError("cannot be set by this application")
    cleaned = None if _is_blank(value) else CLEANERS[spec.type](spec, value)
    if not for_create and not spec.mutable and current.get(spec.name) != cleaned:
        raise ValueError("cannot be changed")
    return cleaned


def validate_attributes(settings: Settings, values: dict[str, Any] | None, *, for_create: bool,
                        current: dict[str, Any] | None = None, client_id: str | None = None,
                        required: Iterable[str] | None = None) -> dict[str, Any]:
    """Check and normalize attribute values; raise AttributeValidationError listing every
    problem. A None (or blank) value removes the attribute. `required` defaults to the custom
    attributes declared required when creating, none when updating; `client_id` enforces the
    declared write permissions (sign-up); `current` lets an immutable value be re-sent."""
    if values is not None and not isinstance(values, dict):
        raise AttributeValidationError({"attributes": "must be an object"})
    specs, current, values = attribute_specs(settings), dict(current or {}), dict(values or {})
    if required is None:
        required = [s.name for s in specs.values() if s.custom and s.required] if for_create else []
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, value in values.items():
        spec = specs.get(name)
        if spec is None:
            errors[str(name)[:64]] = "unknown attribute"
            continue
        try:
            cleaned[name] = _clean_one(spec, value, for_create=for_create, current=current,
                                       client_id=client_id)
        except ValueError as exc:
            errors[name] = str(exc)
    for name in required:
        if name not in errors and _is_blank(cleaned.get(name, current.get(name))):
            errors[name] = "is required"
    if errors:
        raise AttributeValidationError(errors)
    return cleaned


def validate_signup_attributes(settings: Settings, values: dict[str, Any] | None,
                               client_id: str | None = None) -> dict[str, Any]:
    """Sign-up: every attribute of signup_attributes() is required."""
    wanted = [s.name for s in signup_attributes(settings, client_id)]
    return validate_attributes(settings, values, for_create=True, client_id=client_id,
                               required=wanted)


def merge_attributes(current: dict[str, Any] | None, cleaned: dict[str, Any]) -> dict[str, Any]:
    """A new dict (JSON columns need a new object to notice the change); None removes."""
    merged = dict(current or {})
    for name, value in cleaned.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    return merged


# --- claims ---------------------------------------------------------------------------------


def add_attribute_claims(settings: Settings, user: Any, client_id: str, scopes: list[str],
                         id_claims: dict | None, access_claims: dict | None,
                         userinfo_claims: dict | None) -> None:
    """Custom attributes as claims, by scope and the client's read permission (a claim
    source of the trigger registry, see app.triggers.customize_token_claims)."""
    if user is None:
        return
    values = user.attributes or {}
    for spec in custom_attributes(settings):
        if not spec.claim or spec.name not in values or spec.scope not in scopes \
                or not spec.can_read(client_id):
            continue
        for claims in (id_claims, userinfo_claims, access_claims if spec.access_token else None):
            if claims is not None:
                claims[spec.claim] = values[spec.name]
