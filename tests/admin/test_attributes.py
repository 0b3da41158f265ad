"""Custom attributes: declarations, validation on every write, sign-up helpers."""

from __future__ import annotations

import json

import pytest

from app.accounts.attributes import (
    AttributeValidationError,
    merge_attributes,
    parse_custom_attributes,
    signup_attributes,
    validate_attributes,
    validate_signup_attributes,
)
from app.config import ConfigError, load_settings
from tests.admin.conftest import ATTRIBUTES
from tests.conftest import make_app


def settings_with(tmp_path, declarations=ATTRIBUTES, **overrides):
    return load_settings({}, instance_path=str(tmp_path), custom_attributes=declarations,
                         secret_key="k" * 40, **overrides)


@pytest.mark.parametrize("raw, message", [
    ("{not json", "not valid JSON"),
    ('{"name": "plan"}', "JSON list"),
    ('["plan"]', "JSON object"),
    ('[{"name": "Plan"}]', "invalid or reserved attribute name"),
    ('[{"name": "name"}]', "invalid or reserved attribute name"),
    ('[{"name": "plan", "type": "money"}]', "type must be"),
    ('[{"name": "plan", "required": "yes"}]', "required must be"),
    ('[{"name": "plan", "claim": "sub"}]', "reserved claim"),
    ('[{"name": "plan", "claim": "email"}]', "reserved claim"),
    ('[{"name": "plan", "read_clients": "web"}]', "list of strings"),
    ('[{"name": "plan", "colour": "red"}]', "unknown keys"),
    ('[{"name": "plan", "max_length": 0}]', "max_length"),
    ('[{"name": "plan", "min": "1"}]', "min must be"),
    ('[{"name": "plan"}, {"name": "plan"}]', "unique"),
    ('[{"name": "a", "claim": "x"}, {"name": "b", "claim": "x"}]', "unique"),
])
def test_bad_declarations_name_the_setting(raw, message):
    with pytest.raises(ConfigError, match=message) as info:
        parse_custom_attributes(raw)
    assert "FRONTDESK_CUSTOM_ATTRIBUTES" in str(info.value)


def test_bad_declarations_stop_the_start_up(tmp_path, postgres_schema):
    with pytest.raises(ConfigError):
        make_app(tmp_path, postgres_schema, custom_attributes='[{"name": "sub"}]')


@pytest.mark.parametrize("values, expected", [
    ({"plan": "pro"}, {"plan": "pro"}),
    ({"plan": " pro "}, {"plan": "pro"}),
    ({"seats": 5}, {"seats": 5}),
    ({"seats": "5"}, {"seats": 5}),
    ({"seats": 2.5}, {"seats": 2.5}),
    ({"seats": 5.0}, {"seats": 5}),
    ({"beta": "on"}, {"beta": True}),
    ({"beta": "false"}, {"beta": False}),
    ({"beta": False}, {"beta": False}),
    ({"renews_at": "2030-01-01"}, {"renews_at": "2030-01-01T00:00:00Z"}),
    ({"renews_at": "2030-01-01T10:00:00-05:00"}, {"renews_at": "2030-01-01T15:00:00Z"}),
    ({"name": "Ann", "phone_number_verified": "true"},
     {"name": "Ann", "phone_number_verified": True}),
    ({"plan": ""}, {"plan": None}),
])
def test_values_are_normalized(tmp_path, values, expected):
    assert validate_attributes(settings_with(tmp_path), values, for_create=True) == expected


@pytest.mark.parametrize("values, field", [
    ({"plan": "gold"}, "plan"), ({"plan": 3}, "plan"), ({"seats": 0}, "seats"),
    ({"seats": 1001}, "seats"), ({"seats": "many"}, "seats"), ({"seats": True}, "seats"),
    ({"seats": float("nan")}, "seats"), ({"beta": "maybe"}, "beta"), ({"beta": 1}, "beta"),
    ({"renews_at": "next week"}, "renews_at"), ({"renews_at": 1700000000}, "renews_at"),
    ({"colour": "red"}, "colour"), ({"name": "x" * 2049}, "name"),
    ({"seats": 10**400}, "seats"), ({"seats": float("inf")}, "seats"),
])
def test_bad_values_are_refused(tmp_path, values, field):
    with pytest.raises(AttributeValidationError) as info:
        validate_attributes(settings_with(tmp_path), values, for_create=True)
    assert list(info.value.errors) == [field]


def test_every_problem_is_listed_at_once(tmp_path):
    with pytest.raises(AttributeValidationError) as info:
        validate_attributes(settings_with(tmp_path), {"plan": "x", "seats": 0, "nope": 1},
                            for_create=True)
    assert set(info.value.errors) == {"plan", "seats", "nope"}


def test_required_immutable_and_write_permissions(tmp_path):
    declarations = json.dumps([
        {"name": "org_id", "required": True, "mutable": False},
        {"name": "tier", "write_clients": ["back-office"]},
    ])
    settings = settings_with(tmp_path, declarations)
    with pytest.raises(AttributeValidationError, match="org_id: is required"):
        validate_attributes(settings, {}, for_create=True)
    assert validate_attributes(settings, {}, for_create=False) == {}
    current = {"org_id": "acme"}
    assert validate_attributes(settings, {"org_id": "acme"}, for_create=False,
                               current=current) == {"org_id": "acme"}
    with pytest.raises(AttributeValidationError, match="cannot be changed"):
        validate_attributes(settings, {"org_id": "other"}, for_create=False, current=current)
    with pytest.raises(AttributeValidationError, match="cannot be changed"):
        validate_attributes(settings, {"org_id": None}, for_create=False, current=current)
    with pytest.raises(AttributeValidationError, match="cannot be set by this application"):
        validate_attributes(settings, {"org_id": "a", "tier": "x"}, for_create=True,
                            client_id="web")
    assert validate_attributes(settings, {"org_id": "a", "tier": "x"}, for_create=True,
                               client_id="back-office") == {"org_id": "a", "tier": "x"}
    with pytest.raises(AttributeValidationError):
        validate_attributes(settings, ["not", "a", "dict"], for_create=True)


def test_signup_helpers(tmp_path):
    declarations = json.dumps([
        {"name": "company", "required": True, "label": "Company"},
        {"name": "newsletter", "type": "boolean"},
        {"name": "internal", "required": True, "write_clients": ["back-office"]},
    ])
    settings = settings_with(tmp_path, declarations,
                             signup_required_attributes="name,bogus")
    assert [(a.name, a.required, a.custom) for a in signup_attributes(settings)] == [
        ("name", True, False), ("company", True, True), ("internal", True, True)]
    assert [a.name for a in signup_attributes(settings, "web")] == ["name", "company"]
    assert signup_attributes(settings)[1].describe()["label"] == "Company"
    with pytest.raises(AttributeValidationError) as info:
        validate_signup_attributes(settings, {"newsletter": "on"}, client_id="web")
    assert set(info.value.errors) == {"name", "company"}
    assert validate_signup_attributes(settings, {"name": "Ann", "company": "Acme"},
                                      client_id="web") == {"name": "Ann", "company": "Acme"}


def test_merge_removes_nulls_and_copies():
    current = {"a": 1, "b": 2}
    merged = merge_attributes(current, {"a": None, "c": 3})
    assert merged == {"b": 2, "c": 3} and current == {"a": 1, "b": 2}
