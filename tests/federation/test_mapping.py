"""Attribute mapping: upstream claims -> user attributes."""

from __future__ import annotations

from app.federation.mapping import map_attributes, merge_attributes


def test_mapped_claims_become_attributes():
    mapping = {"name": "name", "locale": "language", "groups": "upstream_groups", "age": "age"}
    claims = {"name": " Jane ", "locale": "fr", "groups": ["a", "b"], "age": 41, "extra": "x"}
    assert map_attributes(mapping, claims) == {"name": "Jane", "language": "fr",
                                               "upstream_groups": ["a", "b"], "age": 41}


def test_absent_empty_and_odd_claims_are_skipped():
    mapping = {"a": "a", "b": "b", "c": "c", "d": "d", "e": "e"}
    claims = {"b": "", "c": {"nested": 1}, "d": "x" * 5000, "e": [1, 2]}
    assert map_attributes(mapping, claims) == {}


def test_merge_fills_gaps_or_overwrites():
    current = {"name": "Mine", "phone": "123"}
    mapped = {"name": "Theirs", "picture": "p"}
    assert merge_attributes(current, mapped, overwrite=False) == {
        "name": "Mine", "phone": "123", "picture": "p"}
    assert merge_attributes(current, mapped, overwrite=True) == {
        "name": "Theirs", "phone": "123", "picture": "p"}
    assert current == {"name": "Mine", "phone": "123"}
