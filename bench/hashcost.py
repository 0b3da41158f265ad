"""CPU of one argon2id verification at the server's parameters, measured in this process
with the server's own function.

The login flow row reports its CPU per operation with and without this figure: the reference
hashes no password, so the fair protocol comparison subtracts it.
"""

from __future__ import annotations

import os
import statistics
import time
from functools import lru_cache

from app.accounts.passwords import argon2_verify, argon2id_hash


@lru_cache(maxsize=8)
def argon2_verify_cpu_ms(memory_kib: int | None = None, time_cost: int | None = None,
                         parallelism: int = 1, rounds: int = 15) -> float:
    memory_kib = memory_kib or int(os.environ.get("FRONTDESK_ARGON2_MEMORY_KIB", 19456))
    time_cost = time_cost or int(os.environ.get("FRONTDESK_ARGON2_TIME_COST", 2))
    encoded = argon2id_hash("bench-password", memory_kib, time_cost, parallelism)
    samples = []
    for _ in range(rounds):
        started = time.process_time()
        argon2_verify(encoded, "bench-password")
        samples.append((time.process_time() - started) * 1000)
    return round(statistics.median(samples), 2)
