"""Password hashing with argon2id; parameters come from Settings and never go below OWASP's.

Two engines write and read the same PHC strings, so each verifies the other's hashes and
nothing stored depends on which ran:
- libsodium (PyNaCl) picks AVX2/AVX-512 code at run time, but maps a fresh buffer for every
  hash (19 MiB at the OWASP minimum), and the page faults of that buffer can cost as much as
  the hash itself (on the development machine 8.6 ms of system time against 11 ms of compute).
- argon2-cffi allocates with malloc, and glibc keeps a freed buffer of up to 32 MiB for the
  next hash: no page faults after the first. Its wheels carry portable SSE2 code (about twice
  libsodium's compute); built on the machine for its CPU (scripts/lib.sh does that where a C
  compiler is found) it is as fast as libsodium, faults aside.
For one-lane argon2id (what we write), each process times both engines once per memory
cost, at the first hash or verification, and keeps the faster (`_sodium_is_faster`).
argon2-cffi alone does the rest: more than one lane, argon2i/argon2d and version-16 strings,
and reading parameters (needs_rehash).
"""

from __future__ import annotations

import os
import time
from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.low_level import hash_secret
from nacl.exceptions import InvalidkeyError
from nacl.pwhash import argon2id as sodium_argon2id

from app.config import Settings

_SODIUM_PREFIX = "$argon2id$v=19$"
_SODIUM_MAX_ENCODED = sodium_argon2id.PWHASH_SIZE - 1  # PyNaCl refuses longer strings
_ANY_PARAMETERS = PasswordHasher()  # verify() reads the parameters from the string
# glibc reuses a freed buffer below its largest dynamic mmap threshold (32 MiB on 64-bit);
# above it argon2-cffi faults its buffer in like libsodium does, and libsodium computes faster.
_HEAP_REUSE_MAX_KIB = 31 * 1024
_TRIAL_PASSWORD = b"frontdesk-engine-trial"
_TRIAL_PASSES = 2  # OWASP's minimum and our default


@lru_cache(maxsize=8)
def _hasher(memory_kib: int, time_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib,
                          parallelism=parallelism, type=Type.ID)


def password_hasher(settings: Settings) -> PasswordHasher:
    """argon2-cffi's hasher at our parameters: for reading parameters, not for hashing."""
    return _hasher(settings.argon2_memory_kib, settings.argon2_time_cost,
                   settings.argon2_parallelism)


def argon2id_hash(password: str, memory_kib: int, time_cost: int, parallelism: int) -> str:
    if parallelism != 1:
        return _hasher(memory_kib, time_cost, parallelism).hash(password)
    engine = _sodium_hash if _sodium_is_faster(memory_kib) else _cffi_hash
    return engine(password.encode(), memory_kib, time_cost)


def argon2_verify(encoded: str, password: str) -> bool:
    """Any argon2 PHC string (its own parameters); False for a mismatch or an unreadable hash."""
    if encoded.startswith(_SODIUM_PREFIX) and len(encoded) <= _SODIUM_MAX_ENCODED:
        memory_kib = _one_lane_memory_kib(encoded)
        if memory_kib is not None and _sodium_is_faster(memory_kib):
            return _sodium_verify(encoded, password.encode())
    return _cffi_verify(encoded, password)


def _sodium_hash(password: bytes, memory_kib: int, time_cost: int) -> str:
    return sodium_argon2id.str(password, opslimit=time_cost,
                               memlimit=memory_kib * 1024).decode("ascii")


def _sodium_verify(encoded: str, password: bytes) -> bool:
    try:
        return sodium_argon2id.verify(encoded.encode("ascii"), password)
    except (InvalidkeyError, ValueError):  # a mismatch or a malformed / non-ASCII string
        return False


def _cffi_hash(password: bytes, memory_kib: int, time_cost: int) -> str:
    """The same string libsodium writes: 16-byte salt, 32-byte hash, one lane, version 19."""
    return hash_secret(password, os.urandom(16), time_cost=time_cost, memory_cost=memory_kib,
                       parallelism=1, hash_len=32, type=Type.ID).decode("ascii")


def _cffi_verify(encoded: str, password: str | bytes) -> bool:
    try:
        return _ANY_PARAMETERS.verify(encoded, password)
    except (VerificationError, InvalidHashError, ValueError):  # ValueError: not ASCII
        return False


def _one_lane_memory_kib(encoded: str) -> int | None:
    """M of a "$argon2id$v=19$m=M,t=T,p=1$..." string; None for anything else."""
    fields = encoded[len(_SODIUM_PREFIX):].split("$", 1)[0].split(",")
    if len(fields) != 3 or not fields[0].startswith("m=") or not fields[1].startswith("t=") \
            or fields[2] != "p=1":
        return None
    memory = fields[0][2:]
    return int(memory) if memory.isdigit() and len(memory) <= 8 else None


@lru_cache(maxsize=8)
def _sodium_is_faster(memory_kib: int) -> bool:
    """Time one verification with each engine at this memory and the OWASP passes (after a
    warm-up; the best of two, in thread CPU time, which counts page faults) and keep the
    answer for this process. More passes add about the same compute to both engines; what
    tells them apart is libsodium's page faults, a cost per hash that grows with memory."""
    if memory_kib > _HEAP_REUSE_MAX_KIB:
        return True
    encoded = _sodium_hash(_TRIAL_PASSWORD, memory_kib, _TRIAL_PASSES)
    _cffi_verify(encoded, _TRIAL_PASSWORD)  # glibc maps its first buffer fresh, keeps the next
    return _cpu_seconds(_sodium_verify, encoded) <= _cpu_seconds(_cffi_verify, encoded)


def _cpu_seconds(verify, encoded: str) -> float:
    best = float("inf")
    for _ in range(2):
        started = time.thread_time()
        verify(encoded, _TRIAL_PASSWORD)
        best = min(best, time.thread_time() - started)
    return best


def hash_password(settings: Settings, password: str) -> str:
    return argon2id_hash(password, settings.argon2_memory_kib, settings.argon2_time_cost,
                         settings.argon2_parallelism)


def verify_password(settings: Settings, password_hash: str | None, password: str) -> bool:
    """Check a password; with no hash, burn the same time against a dummy hash."""
    if not password_hash:
        argon2_verify(_dummy_hash(settings.argon2_memory_kib, settings.argon2_time_cost,
                                  settings.argon2_parallelism), password)
        return False
    return argon2_verify(password_hash, password)


def needs_rehash(settings: Settings, password_hash: str) -> bool:
    try:
        return password_hasher(settings).check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@lru_cache(maxsize=8)
def _dummy_hash(memory_kib: int, time_cost: int, parallelism: int) -> str:
    return argon2id_hash("frontdesk-dummy-password", memory_kib, time_cost, parallelism)
