"""The password hash's CPU measured inside the server (bench/metered_wsgi.py) and read back by
the driver.

In the server: `install()` wraps `app.accounts.passwords.argon2_verify` so that each call's
thread CPU time (`time.thread_time_ns()`: user + system, so the page faults of argon2id's
fresh 19 MiB count too) is added to a per-process total. After each call the total goes to
`$BENCH_HASH_METER_DIR/<pid>` as a fixed-width decimal number of nanoseconds, written in place
with one `os.pwrite` on a file opened once per process: a few microseconds against a
verification of 10+ ms.

In the driver: `read_totals(directory)` before and after the measured window, like
bench/procstat.py does for CPU; `delta_ms` is the hash CPU the server spent in between.
An empty directory (the reference server, or a server started without the meter) reads as
no measurement, so the caller falls back to the driver's own timing (bench/hashcost.py).
"""

from __future__ import annotations

import functools
import os
import sys
import threading
import time
from pathlib import Path

ENV = "BENCH_HASH_METER_DIR"
WIDTH = 20  # digits: 10**20 ns is three thousand years of CPU
# Modules that hold their own reference to argon2_verify (`from ... import argon2_verify`).
_HOLDERS = ("app.accounts.passwords", "app.accounts.legacy_hashes")


class _Meter:
    """One process's running total and its file (reopened in a forked child)."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.lock = threading.Lock()
        self._reset()
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self.total_ns = 0
        self.fd = None

    def add(self, ns: int) -> None:
        with self.lock:
            self.total_ns += ns
            if self.fd is None:
                self.fd = os.open(os.path.join(self.directory, str(os.getpid())),
                                  os.O_WRONLY | os.O_CREAT, 0o644)
            os.pwrite(self.fd, b"%0*d\n" % (WIDTH, self.total_ns), 0)


def install(directory: str | None = None) -> bool:
    """Wrap argon2_verify wherever the app holds it; False (nothing done) without a directory."""
    directory = directory or os.environ.get(ENV)
    if not directory:
        return False
    import app.accounts.passwords as passwords

    original = passwords.argon2_verify
    if getattr(original, "__wrapped__", None) is not None:
        return True  # already metered
    meter = _Meter(directory)

    @functools.wraps(original)
    def metered(encoded: str, password: str) -> bool:
        started = time.thread_time_ns()
        try:
            return original(encoded, password)
        finally:
            meter.add(time.thread_time_ns() - started)

    patch_holders(original, metered)
    return True


def patch_holders(original, metered) -> None:
    """Replace argon2_verify in every loaded module that holds the original."""
    for name in _HOLDERS:
        module = sys.modules.get(name)
        if module is not None and getattr(module, "argon2_verify", None) is original:
            module.argon2_verify = metered


def read_totals(directory: Path | None) -> dict[int, int]:
    """{pid: hash CPU ns so far} from the meter files; {} when there are none."""
    if directory is None:
        return {}
    totals = {}
    for path in Path(directory).iterdir():
        if path.name.isdigit():
            text = path.read_bytes().strip()
            if text.isdigit():
                totals[int(path.name)] = int(text)
    return totals


def delta_ms(before: dict[int, int], after: dict[int, int]) -> float | None:
    """Hash CPU between two readings (a process that appeared meanwhile counts in full);
    None when the meter wrote nothing at all: no server-side figure."""
    if not after:
        return None
    ns = sum(max(0, value - before.get(pid, 0)) for pid, value in after.items())
    return ns / 1e6
