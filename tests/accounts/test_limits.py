"""Lockout, throttles, recovery codes and TOTP rules."""

from __future__ import annotations

import dataclasses

import pyotp
import pytest

from app.accounts.lockout import clear_failures, is_locked, record_failure
from app.accounts.mfa import matching_step, new_totp_secret, verify_totp
from app.accounts.recovery_codes import (
    generate_recovery_codes,
    hash_recovery_code,
    looks_like_recovery_code,
    use_recovery_code,
)
from app.accounts.throttle import ip_within_limit, mail_allowed, mail_cooldown_active
from app.extensions import frontdesk_state
from app.models import User


@pytest.fixture
def store(app):
    return frontdesk_state(app).store


def test_lockout_after_max_failures(store, settings):
    strict = dataclasses.replace(settings, login_max_failures=3)
    assert not record_failure(store, strict, "a@example.com")
    assert not record_failure(store, strict, "A@example.com")
    assert record_failure(store, strict, "a@example.com")
    assert is_locked(store, "a@example.com") and not is_locked(store, "b@example.com")
    clear_failures(store, "a@example.com")
    assert not is_locked(store, "a@example.com")


def test_ip_throttle(store, settings):
    tight = dataclasses.replace(settings, ip_max_requests_per_minute=2)
    assert ip_within_limit(store, tight, "10.0.0.1") and ip_within_limit(store, tight, "10.0.0.1")
    assert not ip_within_limit(store, tight, "10.0.0.1")
    assert ip_within_limit(store, tight, "10.0.0.2")


def test_mail_cool_down(store, settings):
    assert mail_allowed(store, settings, "a@example.com", "signup")
    assert mail_cooldown_active(store, "a@example.com", "signup")
    assert not mail_allowed(store, settings, "a@example.com", "signup")
    assert mail_allowed(store, settings, "b@example.com", "signup")


def test_mail_cool_down_is_per_purpose(store, settings):
    """A sign-up code mailed a moment ago must not hold back a password reset code."""
    assert mail_allowed(store, settings, "a@example.com", "signup")
    assert not mail_cooldown_active(store, "a@example.com", "reset")
    assert mail_allowed(store, settings, "a@example.com", "reset")
    assert not mail_allowed(store, settings, "a@example.com", "reset")


def test_recovery_codes_hashed_and_single_use(store):
    user = User(id="u-1", email="a@example.com")
    codes = generate_recovery_codes(user)
    assert len(codes) == 10 and all(looks_like_recovery_code(c) for c in codes)
    assert user.recovery_code_hashes == [hash_recovery_code(c) for c in codes]
    assert all(c not in "".join(user.recovery_code_hashes) for c in codes)
    assert use_recovery_code(store, user, codes[3].upper().replace("-", " "))
    assert not use_recovery_code(store, user, codes[3])
    assert len(user.recovery_code_hashes) == 9
    assert not use_recovery_code(store, user, "aaaaa-aaaaa")


def test_totp_window_and_replay(store):
    secret = new_totp_secret()
    totp = pyotp.TOTP(secret)
    now = 1_800_000_015
    assert matching_step(secret, totp.at(now - 30), now) == totp.timecode(
        __import__("datetime").datetime.fromtimestamp(now - 30))
    assert matching_step(secret, totp.at(now - 90), now) is None
    assert matching_step(secret, "12345", now) is None
    assert verify_totp(store, secret, "u", totp.at(now), now)
    assert not verify_totp(store, secret, "u", totp.at(now), now)  # same step again
    assert not verify_totp(store, secret, "u", totp.at(now - 30), now)  # an older step
    assert verify_totp(store, secret, "other-user", totp.at(now), now)
