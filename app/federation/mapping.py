"""Attribute mapping: upstream claims -> user attributes, per provider.

Applied when a federated user is created and, if the provider says so, at every login.
Only `User.attributes` is written: e-mail, verification and groups never come from a
mapping (providers.RESERVED_ATTRIBUTES).
"""

from __future__ import annotations

from typing import Any

MAX_VALUE_LENGTH = 2048


def map_attributes(mapping: dict[str, str], claims: dict[str, Any]) -> dict[str, Any]:
    """The user attributes the claims provide; absent, empty or oversized claims are skipped."""
    attributes: dict[str, Any] = {}
    for claim, attribute in mapping.items():
        value = _plain_value(claims.get(claim))
        if value is not None:
            attributes[attribute] = value
    return attributes


def _plain_value(value: Any) -> Any:
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        value = value.strip()
        return value if value and len(value) <= MAX_VALUE_LENGTH else None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value if value and sum(len(v) for v in value) <= MAX_VALUE_LENGTH else None
    return None


def merge_attributes(current: dict[str, Any], mapped: dict[str, Any],
                     overwrite: bool) -> dict[str, Any]:
    """New attributes dict: mapped values fill gaps, or replace existing ones on `overwrite`."""
    merged = dict(current or {})
    for name, value in mapped.items():
        if overwrite or name not in merged:
            merged[name] = value
    return merged
