"""User attributes as the pool API lists them ([{"Name", "Value"}], every value a string)
and back: `sub`, `email`, `email_verified` come from the user, the rest from its
attributes, checked by app.accounts.attributes."""

from __future__ import annotations

import json
from typing import Any

from app.models import User
from app.userpool_api.errors import invalid_parameter

READ_ONLY = frozenset({"sub", "email_verified", "phone_number_verified", "identities"})


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def attribute_list(user: User) -> list[dict[str, str]]:
    listed = [{"Name": "sub", "Value": user.id}, {"Name": "email", "Value": user.email},
              {"Name": "email_verified", "Value": _as_text(bool(user.email_verified))}]
    listed += [{"Name": name, "Value": _as_text(value)}
               for name, value in sorted((user.attributes or {}).items())]
    return listed


def parse_attribute_list(value: Any, field: str = "UserAttributes") -> dict[str, str]:
    """{"Name": ..., "Value": ...} items as a dict; InvalidParameterException otherwise."""
    if value is None:
        return {}
    if not isinstance(value, list) or len(value) > 100:
        raise invalid_parameter(f"{field} must be a list of at most 100 attributes.")
    parsed: dict[str, str] = {}
    for item in value:
        if (not isinstance(item, dict) or not isinstance(item.get("Name"), str)
                or not isinstance(item.get("Value", ""), str)):
            raise invalid_parameter(f"{field} items need a Name and a string Value.")
        parsed[item["Name"]] = item.get("Value", "")
    return parsed


def mask_email(email: str) -> str:
    """Where a code went, as a pool says it: j***@e***."""
    local, _, domain = (email or "").partition("@")
    return f"{local[:1]}***@{domain[:1]}***"


def delivery(email: str) -> dict[str, str]:
    return {"Destination": mask_email(email), "DeliveryMedium": "EMAIL",
            "AttributeName": "email"}
