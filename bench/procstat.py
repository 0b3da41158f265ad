"""Server cost from /proc: CPU time of a whole process tree and resident memory per process.

CPU is utime+stime of every live process in the tree plus cutime+cstime (children already
reaped), in clock ticks; the difference of two snapshots over a run divided by the number of
operations is the server's CPU per operation — fair on a shared machine, where wall-clock
throughput depends on what else runs. Memory is VmRSS (now) and VmHWM (peak) per process.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name is in parentheses and may contain spaces: split after the last ')'.
    return raw[raw.rindex(")") + 2:].split()


def process_tree(root: int) -> list[int]:
    """The root pid and all its descendants (scanning /proc once)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = _stat_fields(int(entry))
        if fields:
            children.setdefault(int(fields[1]), []).append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def cpu_ticks(pids: list[int]) -> int:
    """utime + stime + cutime + cstime summed over pids (fields 14-17 of /proc/pid/stat)."""
    total = 0
    for pid in pids:
        fields = _stat_fields(pid)
        if fields:  # after the ')' the state is field 3, so utime (14) is index 11
            total += sum(int(v) for v in fields[11:15])
    return total


def memory_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of one process in KiB; (0, 0) if it is gone."""
    rss = hwm = 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return rss, hwm


def ticks_by_pid(pids: list[int]) -> dict[int, int]:
    return {pid: cpu_ticks([pid]) for pid in pids}


def ticks_delta_ms(before: dict[int, int], after: dict[int, int]) -> float:
    """CPU of processes alive at the end, counting ones started meanwhile in full."""
    ticks = sum(max(0, value - before.get(pid, 0)) for pid, value in after.items())
    return ticks * 1000 / TICKS_PER_SECOND


@dataclass
class TreeSnapshot:
    at: float
    ticks: int
    pids: list[int]


def snapshot(root: int) -> TreeSnapshot:
    pids = process_tree(root)
    return TreeSnapshot(time.monotonic(), cpu_ticks(pids), pids)


def cpu_ms(before: TreeSnapshot, after: TreeSnapshot) -> float:
    return (after.ticks - before.ticks) * 1000 / TICKS_PER_SECOND


def own_cpu_seconds() -> float:
    """CPU of this (driver) process, to show the driver is not the bottleneck."""
    return time.process_time()


@dataclass
class RssSampler:
    """Samples VmRSS of every process in the tree every `interval` seconds (a thread)."""

    root: int
    interval: float = 1.0
    samples: list[tuple[float, dict[int, int]]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> RssSampler:
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        started = time.monotonic()
        while not self._stop.is_set():
            pids = process_tree(self.root)
            self.samples.append((round(time.monotonic() - started, 1),
                                 {p: memory_kib(p)[0] for p in pids}))
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()


def worker_memory(root: int) -> dict[str, object]:
    """RSS and peak RSS (MiB) of the workers: the tree minus the root unless it is alone."""
    pids = process_tree(root)
    workers = [p for p in pids if p != root] or [root]
    pairs = [memory_kib(p) for p in workers]
    return {
        "workers": len(workers),
        "rss_mib": [round(r / 1024, 1) for r, _ in pairs],
        "peak_rss_mib": [round(h / 1024, 1) for _, h in pairs],
        "max_peak_rss_mib": round(max((h for _, h in pairs), default=0) / 1024, 1),
    }
