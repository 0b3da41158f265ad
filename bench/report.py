"""Result rows (JSON lines) to Markdown tables, with the ratio to the reference."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import time
from pathlib import Path

from bench.driver import SCENARIOS


def read_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def write_rows(path: Path, rows: list[dict]) -> None:
    with path.open("a") as out:
        for row in rows:
            out.write(json.dumps(row) + "\n")


def _fmt(value, digits: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _ratio(mine, theirs) -> str:
    if not mine or not theirs:
        return "–"
    return f"{mine / theirs:.2f}×"


def _reference_rows(rows: list[dict]) -> dict[str, dict]:
    return {r["scenario"]: r for r in rows if r["kind"] == "reference"}


def subtracted_hash(row: dict) -> tuple[float | None, str | None]:
    """The password hash CPU per login flow that "excl. hash" subtracts, and where it was
    measured: "server" (server_hash_cpu_ms, metered inside the server over the measured
    window) or "driver" (hash_cpu_ms, one verification in the quiet driver process: the
    fallback when the server ran without the meter, and all rows written before it)."""
    if row.get("server_hash_cpu_ms") is not None and row.get("hash_source") != "driver":
        return row["server_hash_cpu_ms"], "server"
    if row.get("hash_cpu_ms") is not None:
        return row["hash_cpu_ms"], "driver"
    return None, None


def cpu_excluding_hash(row: dict) -> float | None:
    """Login flow CPU per op minus the password hash (see subtracted_hash)."""
    hash_ms, _ = subtracted_hash(row)
    if row["scenario"] != "login" or hash_ms is None or row["server_cpu_ms_per_op"] is None:
        return None
    return round(row["server_cpu_ms_per_op"] - hash_ms, 3)


def _hash_note(row: dict) -> str:
    hash_ms, source = subtracted_hash(row)
    note = f"hash {hash_ms:.2f} in {source}"
    return note if source == "server" else note + ", server not metered"


HEADER = ("| target | scenario | ops/s | p50 ms | p95 ms | p99 ms | errors | server CPU ms/op "
          "| ratio CPU/op vs ref | ops/s vs ref | PostgreSQL CPU ms/op | peak RSS/worker MiB |\n"
          "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")


def table(rows: list[dict]) -> str:
    """One line per (target, scenario), reference rows included, ratios against them."""
    refs = _reference_rows(rows)
    order = {name: i for i, name in enumerate(SCENARIOS)}
    lines = [HEADER]
    for row in sorted(rows, key=lambda r: (r["kind"] == "reference", r["target"],
                                           order.get(r["scenario"], 99))):
        ref = refs.get(row["scenario"]) if row["kind"] != "reference" else None
        cpu = _fmt(row["server_cpu_ms_per_op"], 3)
        excl = cpu_excluding_hash(row)
        if excl is not None:
            cpu += f" ({excl:.3f} excl. hash, {_hash_note(row)})"
        ratio = _ratio(row["server_cpu_ms_per_op"], ref and ref["server_cpu_ms_per_op"])
        if excl is not None and ref:
            ratio += f" ({_ratio(excl, ref['server_cpu_ms_per_op'])} excl. hash)"
        lines.append(
            f"| {row['target']} | {row['scenario']} | {_fmt(row['ops_per_s'], 1)} "
            f"| {_fmt(row['p50_ms'])} | {_fmt(row['p95_ms'])} | {_fmt(row['p99_ms'])} "
            f"| {row['errors']} | {cpu} | {ratio if ref else '–'} "
            f"| {_ratio(row['ops_per_s'], ref and ref['ops_per_s']) if ref else '–'} "
            f"| {_fmt(row.get('db_cpu_ms_per_op'), 3)} "
            f"| {_fmt(row['server_max_peak_rss_mib'], 1)} |")
    return "\n".join(lines)


def _comparable(row: dict) -> float | None:
    """The figure rows are compared by: CPU per operation, the hash excluded for a login."""
    excluded = cpu_excluding_hash(row)
    return excluded if excluded is not None else row["server_cpu_ms_per_op"]


def _groups(rows: list[dict]) -> dict[tuple[str, str], list[dict]]:
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        groups.setdefault((row["target"], row["scenario"]), []).append(row)
    return groups


def median_rounds(rows: list[dict]) -> list[dict]:
    """One row per target and scenario measured in several rounds: its median round by
    _comparable (the lower middle of an even count). Rows of a single round pass as they are."""
    kept = []
    for group in _groups(rows).values():
        rounds = {row.get("round", 1) for row in group}
        if len(group) < 2 or len(rounds) != len(group):
            kept += group
            continue
        ranked = sorted((r for r in group if _comparable(r) is not None), key=_comparable)
        kept.append(ranked[(len(ranked) - 1) // 2] if ranked else group[0])
    return kept


def rounds_table(rows: list[dict]) -> str:
    """Each round's ratio to the reference's row of the same round, beside the table's
    (median against median); empty for a run of one round or without a reference."""
    rounds = sorted({row.get("round", 1) for row in rows})
    refs = {(r["scenario"], r.get("round", 1)): r for r in rows if r["kind"] == "reference"}
    if len(rounds) < 2 or not refs:
        return ""
    median_refs = _reference_rows(median_rounds(rows))
    order = {name: i for i, name in enumerate(SCENARIOS)}
    lines = ["| target | scenario | " + " | ".join(f"round {n}" for n in rounds)
             + " | table (median rounds) |", "|---|---|" + "---:|" * (len(rounds) + 1)]
    groups = sorted(_groups(rows).items(),
                    key=lambda item: (item[0][0], order.get(item[0][1], 99)))
    for (target, scenario), group in groups:
        if group[0]["kind"] == "reference":
            continue
        by_round = {row.get("round", 1): row for row in group}
        cells = []
        for number in rounds:
            row, ref = by_round.get(number), refs.get((scenario, number))
            cells.append(_ratio(row and _comparable(row), ref and ref["server_cpu_ms_per_op"]))
        median = median_rounds(group)[0]
        ref = median_refs.get(scenario)
        cells.append(_ratio(_comparable(median), ref and ref["server_cpu_ms_per_op"]))
        lines.append(f"| {target} | {scenario} | " + " | ".join(cells) + " |")
    return ("Ratio of CPU per operation to the reference, round by round (login: the hash "
            "excluded):\n\n" + "\n".join(lines))


def context_lines(rows: list[dict]) -> str:
    seen, lines = set(), []
    for row in rows:
        key = (row["target"], json.dumps(row.get("settings", {}), sort_keys=True))
        if key in seen:
            continue
        seen.add(key)
        lines.append(f"- **{row['target']}**: " + ", ".join(
            f"{k} {v}" for k, v in row.get("settings", {}).items()))
    loads = [r["loadavg"] for r in rows]
    if loads:
        lines.append(f"- load average (1 min) during the rows: {min(loads):.2f}–{max(loads):.2f}")
    rounds = len({r.get("round", 1) for r in rows})
    if rounds > 1:
        lines.append(f"- {rounds} interleaved rounds; each row above is its median round "
                     "(by CPU per operation, the hash excluded for a login)")
    return "\n".join(lines)


def provenance(argv: list[str], root: Path) -> str:
    """Where a run's figures come from: the command, the commit (with "+ changes" when the
    work tree differed from it), the time and the CPU, for the head of results.md."""
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                                  timeout=10, check=True).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown (not a git checkout)"
    if git("status", "--porcelain", "--untracked-files=no"):
        commit += " + uncommitted changes"
    cpu = next((line.split(":", 1)[1].strip() for line in _cpuinfo().splitlines()
                if line.startswith("model name")), "unknown CPU")
    command = " ".join(["bench/run", *([shlex.join(argv)] if argv else [])])
    return (f"- command: `{command}`\n- commit: `{commit}`\n"
            f"- started: {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}\n"
            f"- machine: {cpu}, {os.cpu_count()} cores\n")


def _cpuinfo() -> str:
    try:
        return Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""


def markdown(rows: list[dict], title: str = "Results") -> str:
    per_round = rounds_table(rows)
    text = f"## {title}\n\n{table(median_rounds(rows))}\n\n{context_lines(rows)}\n"
    return text + (f"\n{per_round}\n" if per_round else "")
