"""E-mailed codes: hashing, single use, attempts, expiry, one live flow per address."""

from __future__ import annotations

import dataclasses
import time

import pytest

from app.accounts.codes import (
    CodeError,
    hash_code,
    live_flow,
    load_flow,
    reissue_code,
    start_flow,
    verify_code,
)
from app.extensions import frontdesk_state


@pytest.fixture
def store(app):
    return frontdesk_state(app).store


def test_code_is_six_digits_and_stored_hashed(app, store, settings):
    flow, code = start_flow(store, settings, "t", "a@example.com", {"k": "v"})
    assert len(code) == 6 and code.isdigit()
    raw = store.get(f"code:t:{flow.id}")
    assert code not in raw and hash_code(flow.id, code) in raw


def test_single_use(store, settings):
    flow, code = start_flow(store, settings, "t", "a@example.com")
    assert verify_code(store, settings, "t", flow.id, f" {code[:3]} {code[3:]} ").data == {}
    with pytest.raises(CodeError) as err:
        verify_code(store, settings, "t", flow.id, code)
    assert err.value.reason == "expired"


def test_attempts_are_limited(store, settings):
    flow, code = start_flow(store, settings, "t", "a@example.com")
    wrong = "000000" if code != "000000" else "111111"
    reasons = []
    for _ in range(settings.code_max_attempts):
        with pytest.raises(CodeError) as err:
            verify_code(store, settings, "t", flow.id, wrong)
        reasons.append(err.value.reason)
    assert reasons[-1] == "exhausted" and set(reasons[:-1]) == {"invalid"}
    with pytest.raises(CodeError):
        verify_code(store, settings, "t", flow.id, code)


def test_expiry(store, settings):
    short = dataclasses.replace(settings, code_ttl_seconds=1)
    flow, code = start_flow(store, short, "t", "a@example.com")
    time.sleep(1.3)
    with pytest.raises(CodeError) as err:
        verify_code(store, short, "t", flow.id, code)
    assert err.value.reason == "expired"


def test_new_flow_voids_the_previous_one(store, settings):
    first, first_code = start_flow(store, settings, "t", "a@example.com")
    second, _ = start_flow(store, settings, "t", "A@example.com")
    assert load_flow(store, "t", first.id) is None
    assert live_flow(store, "t", "a@example.com").id == second.id
    with pytest.raises(CodeError):
        verify_code(store, settings, "t", first.id, first_code)


def test_dummy_flow_never_matches(store, settings):
    flow, code = start_flow(store, settings, "t", "a@example.com", real=False)
    with pytest.raises(CodeError) as err:
        verify_code(store, settings, "t", flow.id, code)
    assert err.value.reason == "invalid"


def test_reissue_replaces_the_code_and_resets_attempts(store, settings):
    flow, old = start_flow(store, settings, "t", "a@example.com")
    with pytest.raises(CodeError):
        verify_code(store, settings, "t", flow.id, "999999" if old != "999999" else "888888")
    new = reissue_code(store, settings, load_flow(store, "t", flow.id))
    if new != old:
        with pytest.raises(CodeError):
            verify_code(store, settings, "t", flow.id, old)
    assert verify_code(store, settings, "t", flow.id, new).id == flow.id


def test_malformed_flow_ids(store, settings):
    for flow_id in (None, "", "x" * 65, "unknown"):
        with pytest.raises(CodeError):
            verify_code(store, settings, "t", flow_id, "123456")
