"""Password policy rules."""

from __future__ import annotations

import dataclasses

import pytest

from app.accounts.policy import check_password, common_passwords


def rules(settings, password, email=None, **changes):
    return [v.rule for v in check_password(dataclasses.replace(settings, **changes), password,
                                           email)]


@pytest.mark.parametrize("password, expected", [
    ("short", ["too_short"]),
    ("password", ["common"]),
    ("Qwertyuiop", ["common"]),
    ("a fine passphrase", []),
    ("x" * 300, ["too_long"]),
])
def test_default_policy(settings, password, expected):
    assert rules(settings, password) == expected


def test_classes_are_configurable(settings):
    assert rules(settings, "lower case words", password_require="lower,upper,digit,symbol") == \
        ["missing_upper", "missing_digit", "missing_symbol"]
    assert rules(settings, "Lower-Case 9", password_require="lower,upper,digit,symbol") == []
    assert rules(settings, "xq7", password_min_length=3) == []


def test_the_address_is_not_a_password(settings):
    assert rules(settings, "Alice.Smith@example.com", "alice.smith@example.com") == ["is_email"]
    assert rules(settings, "alice.smith", "alice.smith@example.com") == ["is_email"]


def test_shipped_list_is_large():
    assert len(common_passwords()) > 19000 and "iloveyou" in common_passwords()
