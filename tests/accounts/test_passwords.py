"""Password hashing with argon2-cffi (app/accounts/passwords.py)."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher, Type, extract_parameters

import app.accounts.passwords as passwords
from app.accounts.passwords import (
    argon2_verify,
    argon2id_hash,
    hash_password,
    needs_rehash,
    verify_password,
)
from app.config import Settings

# Small costs keep the suite fast; the production floor is tested in test_config.
MEM, PASSES = 8192, 1


def _settings(**overrides) -> Settings:
    values = {"argon2_memory_kib": 19456, "argon2_time_cost": 2, "argon2_parallelism": 1}
    values.update(overrides)
    return Settings(**values)


def test_hash_is_argon2id_with_our_parameters():
    encoded = hash_password(_settings(), "correct horse")
    params = extract_parameters(encoded)
    assert encoded.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert (params.type, params.memory_cost, params.time_cost, params.parallelism) == \
        (Type.ID, 19456, 2, 1)
    assert (params.salt_len, params.hash_len) == (16, 32)
    assert not needs_rehash(_settings(), encoded)
    assert needs_rehash(_settings(argon2_time_cost=3), encoded)


def test_salts_differ_and_passwords_check():
    first, second = (argon2id_hash("same", MEM, PASSES, 1) for _ in range(2))
    assert first != second
    assert argon2_verify(first, "same") and argon2_verify(second, "same")
    assert not argon2_verify(first, "Same")
    assert not argon2_verify(first, "")


@pytest.mark.parametrize("parallelism", [1, 2, 4])
def test_argon2_cffi_hashes_verify_here(parallelism):
    encoded = PasswordHasher(time_cost=PASSES, memory_cost=MEM, parallelism=parallelism,
                             type=Type.ID).hash("pässwörd")
    assert argon2_verify(encoded, "pässwörd")
    assert not argon2_verify(encoded, "passwort")


def test_our_hashes_verify_with_argon2_cffi():
    encoded = argon2id_hash("pässwörd", MEM, PASSES, 1)
    assert PasswordHasher().verify(encoded, "pässwörd")


def test_more_than_one_lane_is_hashed_with_those_lanes():
    encoded = argon2id_hash("pw", MEM, PASSES, 2)
    assert extract_parameters(encoded).parallelism == 2
    assert argon2_verify(encoded, "pw") and not argon2_verify(encoded, "px")


@pytest.mark.parametrize("variant", [Type.I, Type.D])
def test_other_argon2_variants_still_verify(variant):
    encoded = PasswordHasher(time_cost=PASSES, memory_cost=MEM, type=variant).hash("pw")
    assert argon2_verify(encoded, "pw") and not argon2_verify(encoded, "px")


def test_long_hash_and_salt_go_to_argon2_cffi():
    encoded = PasswordHasher(time_cost=PASSES, memory_cost=MEM, hash_len=64,
                             salt_len=32).hash("pw")
    assert len(encoded) > 127
    assert argon2_verify(encoded, "pw") and not argon2_verify(encoded, "px")


@pytest.mark.parametrize("encoded", [
    "", "not-a-hash", "$argon2id$v=19$m=8192,t=1,p=1$garbage",
    "$argon2id$v=19$m=8192,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
    "$argon2id$v=19$m=8192,t=1,p=1$c2Fsdé$aGFzaA", "$argon2i$v=19$m=8192,t=1,p=1$c2Fsdé$aGFzaA",
])
def test_unreadable_hashes_fail_closed(encoded):
    assert argon2_verify(encoded, "pw") is False


def test_no_hash_is_a_mismatch():
    assert verify_password(_settings(argon2_memory_kib=MEM * 3, argon2_time_cost=PASSES + 1),
                           None, "anything") is False


def test_the_dummy_hash_costs_a_full_verification_at_the_settings():
    """No user, no hash: the password is checked against a valid hash at the configured
    parameters, so the answer takes as long as a wrong password does."""
    from argon2.exceptions import VerifyMismatchError
    from argon2.low_level import verify_secret

    settings = _settings(argon2_memory_kib=MEM * 3, argon2_time_cost=PASSES + 1)
    dummy = passwords._dummy_hash(settings)
    params = extract_parameters(dummy)
    assert (params.type, params.memory_cost, params.time_cost, params.parallelism) == \
        (Type.ID, MEM * 3, PASSES + 1, 1)
    assert (params.salt_len, params.hash_len) == (16, 32)
    with pytest.raises(VerifyMismatchError):  # computed and compared, not refused unread
        verify_secret(dummy.encode(), b"anything", Type.ID)


def test_hashing_has_no_process_wide_cache():
    """Nothing about one app's parameters is kept at module level."""
    assert not [name for name, value in vars(passwords).items() if not name.startswith("__")
                if hasattr(value, "cache_info") or isinstance(value, dict)]
