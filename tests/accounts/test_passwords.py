"""Password hashing: libsodium and argon2-cffi write and read the same strings, and each
process hashes with whichever of the two it measured faster."""

from __future__ import annotations

import functools

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


@pytest.mark.parametrize("writer,reader", [
    (passwords._sodium_hash, passwords._cffi_verify),
    (passwords._cffi_hash, passwords._sodium_verify),
])
def test_each_engine_reads_what_the_other_writes(writer, reader):
    encoded = writer(b"p\xc3\xa4ss", MEM, PASSES)
    assert encoded.startswith(f"$argon2id$v=19$m={MEM},t={PASSES},p=1$")
    params = extract_parameters(encoded)
    assert (params.salt_len, params.hash_len) == (16, 32)
    assert reader(encoded, b"p\xc3\xa4ss") is True
    assert reader(encoded, b"pass") is False


@pytest.fixture
def measured(monkeypatch):
    """The engines' timings as the test says, and which engine then hashed or verified."""
    used: list[str] = []
    timings = {}

    def spy(name, function):
        @functools.wraps(function)
        def wrapper(*args):
            used.append(name)
            return function(*args)
        return wrapper

    monkeypatch.setattr(passwords, "_cpu_seconds",
                        lambda verify, encoded: timings[verify.__name__])
    for name in ("_sodium_hash", "_sodium_verify", "_cffi_hash"):
        monkeypatch.setattr(passwords, name, spy(name, getattr(passwords, name)))
    monkeypatch.setattr(passwords, "_ANY_PARAMETERS", type("Spied", (), {
        "verify": staticmethod(spy("cffi_verify", PasswordHasher().verify))})())
    passwords._sodium_is_faster.cache_clear()
    yield timings, used
    passwords._sodium_is_faster.cache_clear()


@pytest.mark.parametrize("sodium_ms,cffi_ms,engine", [(20, 12, "cffi"), (11, 22, "sodium")])
def test_the_engine_measured_faster_hashes_and_verifies(measured, sodium_ms, cffi_ms, engine):
    timings, used = measured
    timings.update(_sodium_verify=sodium_ms, _cffi_verify=cffi_ms)
    encoded = argon2id_hash("pw", MEM, PASSES, 1)
    assert used[-1] == f"_{engine}_hash"
    used.clear()
    assert argon2_verify(encoded, "pw") and not argon2_verify(encoded, "px")
    assert used == [f"_{engine}_verify" if engine == "sodium" else "cffi_verify"] * 2


def test_the_measurement_runs_once_per_memory_cost(measured):
    timings, used = measured
    timings.update(_sodium_verify=20, _cffi_verify=12)
    argon2id_hash("pw", MEM, PASSES, 1)
    trials = len(used)
    argon2id_hash("pw", MEM, PASSES + 1, 1)
    assert len(used) == trials + 1  # the hash alone, no second trial
    assert passwords._sodium_is_faster.cache_info().currsize == 1


def test_buffers_glibc_would_not_keep_go_to_libsodium_untimed(measured):
    timings, used = measured  # no timings: a trial would raise KeyError
    assert passwords._sodium_is_faster(passwords._HEAP_REUSE_MAX_KIB + 1) is True
    assert used == []


def test_the_real_measurement_picks_an_engine_that_works():
    passwords._sodium_is_faster.cache_clear()
    try:
        assert passwords._sodium_is_faster(MEM) in (True, False)
        encoded = argon2id_hash("pw", MEM, PASSES, 1)
        assert argon2_verify(encoded, "pw") and not argon2_verify(encoded, "px")
    finally:
        passwords._sodium_is_faster.cache_clear()


@pytest.mark.parametrize("encoded,memory_kib", [
    ("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", 19456),
    ("$argon2id$v=19$m=8192,t=1,p=2$c2FsdA$aGFzaA", None),
    ("$argon2id$v=19$m=x,t=1,p=1$c2FsdA$aGFzaA", None),
    ("$argon2id$v=19$t=1,m=8192,p=1$c2FsdA$aGFzaA", None),
    ("$argon2id$v=19$m=123456789,t=1,p=1$c2FsdA$aGFzaA", None),
    ("$argon2id$v=19$", None),
])
def test_one_lane_memory_is_read_from_the_string(encoded, memory_kib):
    assert passwords._one_lane_memory_kib(encoded) == memory_kib
