"""`frontdesk hash-calibrate`: argon2id parameters for a target time on this machine.

Never below the OWASP minimum (19456 KiB, t=2, p=1), which Settings also enforces. Memory is
raised first (what makes argon2id expensive to attack on GPUs), up to --max-memory-kib, then
the number of passes. Each candidate is timed as the median CPU time of a few hashes (p=1 runs
on one core, so CPU time is the wall time of an idle machine and is not skewed by other load).
"""

from __future__ import annotations

import json
import os
import statistics
import time
from dataclasses import asdict, dataclass

import click

from app.accounts.passwords import argon2id_hash

OWASP_MEMORY_KIB = 19456
OWASP_TIME_COST = 2
PARALLELISM = 1
MEMORY_STEP_KIB = 1024
MAX_CORRECTIONS = 6
TOLERANCE = 0.05


@dataclass(frozen=True)
class Proposal:
    memory_kib: int
    time_cost: int
    parallelism: int
    measured_ms: float
    target_ms: float
    owasp_minimum_ms: float

    def env_lines(self) -> list[str]:
        return [f"FRONTDESK_ARGON2_MEMORY_KIB={self.memory_kib}",
                f"FRONTDESK_ARGON2_TIME_COST={self.time_cost}",
                f"FRONTDESK_ARGON2_PARALLELISM={self.parallelism}"]


def time_hash_ms(memory_kib: int, time_cost: int, rounds: int = 5) -> float:
    """Median CPU milliseconds of one argon2id hash with these parameters (after one warm-up),
    through the server's own hashing function."""
    argon2id_hash("calibration-warm-up", memory_kib, time_cost, PARALLELISM)
    samples = []
    for n in range(rounds):
        started = time.thread_time()
        argon2id_hash(f"calibration-{n}", memory_kib, time_cost, PARALLELISM)
        samples.append((time.thread_time() - started) * 1000)
    return statistics.median(samples)


def _round_memory(kib: float, cap: int) -> int:
    stepped = int(kib // MEMORY_STEP_KIB) * MEMORY_STEP_KIB
    return max(OWASP_MEMORY_KIB, min(cap, stepped))


def propose(target_ms: float, max_memory_kib: int, rounds: int = 5,
            measure=time_hash_ms) -> Proposal:
    """Scale memory to the target, then passes. Cost is linear in memory x passes only
    piecewise: the hashing engine, and so the cost per KiB, changes with the memory cost
    (app.accounts.passwords), so the estimate is corrected from each measurement until it
    lands within TOLERANCE of the target."""
    base = measure(OWASP_MEMORY_KIB, OWASP_TIME_COST, rounds)
    memory, passes, measured = OWASP_MEMORY_KIB, OWASP_TIME_COST, base
    if base < target_ms:
        for _ in range(MAX_CORRECTIONS):
            candidate = _round_memory(memory * target_ms / measured, max_memory_kib)
            if candidate == memory:
                break
            memory, measured = candidate, measure(candidate, passes, rounds)
            if abs(measured - target_ms) <= TOLERANCE * target_ms:
                break
        if memory >= max_memory_kib and measured < target_ms:
            candidate = max(OWASP_TIME_COST, int(passes * target_ms / measured))
            if candidate != passes:
                passes, measured = candidate, measure(memory, candidate, rounds)
    return Proposal(memory, passes, PARALLELISM, round(measured, 1), target_ms, round(base, 1))


def describe(proposal: Proposal) -> str:
    cpus = os.cpu_count() or 1
    per_core = 1000 / proposal.measured_ms if proposal.measured_ms else 0
    lines = [
        f"# argon2id for a {proposal.target_ms:g} ms target on this machine ({cpus} CPUs):",
        f"#   OWASP minimum (19456 KiB, t=2, p=1) takes {proposal.owasp_minimum_ms} ms here;",
        f"#   proposed parameters take {proposal.measured_ms} ms "
        f"(about {per_core:.0f} logins/s per core, {per_core * cpus:.0f}/s on all cores).",
        f"#   Each login in flight holds {proposal.memory_kib // 1024} MiB while it hashes.",
    ]
    if proposal.owasp_minimum_ms >= proposal.target_ms:
        lines.append("#   The OWASP minimum already meets the target: never go below it.")
    return "\n".join(lines + proposal.env_lines())


@click.command("hash-calibrate")
@click.option("--target-ms", default=50.0, show_default=True, type=click.FloatRange(min=1),
              help="Time one password hash should take")
@click.option("--max-memory-kib", default=262144, show_default=True,
              type=click.IntRange(min=OWASP_MEMORY_KIB),
              help="Upper bound for memory; then the number of passes grows")
@click.option("--rounds", default=5, show_default=True, type=click.IntRange(min=1, max=50),
              help="Hashes timed per candidate (median)")
@click.option("--json", "as_json", is_flag=True)
def hash_calibrate_command(target_ms, max_memory_kib, rounds, as_json):
    """Measure this machine and propose FRONTDESK_ARGON2_* settings for a target time."""
    proposal = propose(target_ms, max_memory_kib, rounds)
    if as_json:
        click.echo(json.dumps(asdict(proposal) | {"env": proposal.env_lines()}))
    else:
        click.echo(describe(proposal))
