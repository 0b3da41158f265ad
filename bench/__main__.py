"""`python -m bench` (or `bench/run`): the whole benchmark in one command.

    bench/run                       side-by-side: Frontdesk production + embedded vs oidc-provider
                                    (three interleaved rounds; each row is its median round)
    bench/run --modes production --no-reference --scenarios login,refresh -d 5
    bench/run servers               gunicorn sync/gthread and granian, 1 and 2 workers
    bench/run roundtrips            DB and store round trips per endpoint
    bench/run soak --flows 100000   RSS per worker over many login flows
    bench/run scale --users 1000000 login/token p99 at 1k users vs N users
    bench/run report FILE.jsonl     Markdown table from earlier results
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

from bench import driver, report, servers, wrk
from bench.hashcost import argon2_verify_cpu_ms

RESULTS = Path(__file__).resolve().parent / "results"


def run_async(coroutine):
    """uvloop when installed (the `bench` extra): the driver must not be the bottleneck."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def _out_dir(args) -> Path:
    out = Path(args.out) if args.out else RESULTS / time.strftime("%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    return out


def _log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')} load {os.getloadavg()[0]:.2f}] {message}",
          file=sys.stderr, flush=True)


async def _one(target: driver.Target, scenario: str, args) -> dict:
    if scenario in wrk.SCENARIOS and args.wrk and wrk.available():
        return await wrk.run_scenario(target, scenario, args.duration, args.concurrency,
                                      args.warmup)
    return await driver.run_scenario(target, scenario, args.duration, args.concurrency,
                                     args.warmup)


def measure_one(target: driver.Target, scenario: str, args, jsonl: Path,
                round_number: int = 1) -> dict:
    """One scenario against one running target; the row goes to `jsonl` at once."""
    row = run_async(_one(target, scenario, args))
    row["round"] = round_number
    if scenario == "login" and target.kind == "frontdesk":
        add_hash_figures(row)
    report.write_rows(jsonl, [row])
    hashed = (f"  hash {report.subtracted_hash(row)[0]} ms in {row['hash_source']}"
              if "hash_source" in row else "")
    _log(f"{target.name:<22} {scenario:<18} {row['ops_per_s']:>8} ops/s  "
         f"p99 {row['p99_ms']:>7} ms  cpu/op {row['server_cpu_ms_per_op']} ms{hashed}  "
         f"driver/op {row['driver_cpu_ms_per_op']} ms  errors {row['errors']} "
         f"{row['error_samples'][:1]}")
    return row


def add_hash_figures(row: dict) -> None:
    """The login row's password hash: the server's own meter (server_hash_cpu_ms, per flow)
    when it ran one, and always one verification timed here (hash_cpu_ms, quiet process);
    hash_source says which one "excl. hash" subtracts."""
    row["hash_cpu_ms"] = argon2_verify_cpu_ms()
    row["hash_source"] = "server" if row.get("server_hash_cpu_ms") is not None else "driver"


def measure(targets: list[driver.Target], scenarios: list[str], args, jsonl: Path) -> list:
    """Round by round, scenario by scenario, every target in turn: load drift on a shared
    machine hits all targets alike instead of whichever happened to run last, and a slow
    spell in one round does not decide a row (the report keeps each row's median round)."""
    return [measure_one(target, scenario, args, jsonl, number)
            for number in range(1, getattr(args, "rounds", 1) + 1)
            for scenario in scenarios for target in targets]


def spec_from(args, app: str = servers.METERED_APP) -> servers.ServeSpec:
    """The server shape from the options; the production app with its hash metered."""
    return servers.ServeSpec(server=args.server, workers=args.workers,
                             worker_class=args.worker_class, threads=args.threads, app=app)


def run_side_by_side(args) -> list[dict]:
    out = _out_dir(args)
    jsonl = out / "results.jsonl"
    scenarios = args.scenarios.split(",")
    running, instances = [], []
    origin = report.provenance(args.argv, Path(__file__).resolve().parent.parent)
    _log(f"uptime: {Path('/proc/loadavg').read_text().strip()}")
    with tempfile.TemporaryDirectory(prefix="fdbench-") as tmp:
        try:
            if args.reference:
                running.append(servers.start_reference(Path(tmp)))
            for mode in [m for m in args.modes.split(",") if m]:
                instances.append(servers.prepare_frontdesk(mode, Path(tmp)))
                running.append(servers.start_frontdesk(instances[-1], spec_from(args)))
            rows = measure([r.target for r in running], scenarios, args, jsonl)
        finally:
            for server in running:
                server.stop()
            for inst in instances:
                inst.cleanup()
    (out / "results.md").write_text(origin + "\n" + report.markdown(rows))
    print(report.markdown(rows))
    _log(f"results in {out}")
    return rows


def default_server() -> str:
    import importlib.util

    return "granian" if importlib.util.find_spec("granian") else "gunicorn"


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-d", "--duration", type=float, default=10.0,
                        help="seconds per scenario (default 10)")
    parser.add_argument("-c", "--concurrency", type=int, default=8,
                        help="concurrent clients (default 8)")
    parser.add_argument("-w", "--warmup", type=float, default=3.0,
                        help="unmeasured seconds before each scenario (default 3)")
    parser.add_argument("--scenarios", default=",".join(driver.SCENARIOS))
    parser.add_argument("--out", help="results folder (default bench/results/<time>)")
    parser.add_argument("--no-wrk", dest="wrk", action="store_false",
                        help="aiohttp for discovery/JWKS too")
    parser.add_argument("--server", default=default_server(), choices=["gunicorn", "granian"],
                        help="default: granian when installed (the measured choice, see "
                             "README), else gunicorn")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default="sync", choices=["sync", "gthread"])
    parser.add_argument("--threads", type=int, default=1)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="side-by-side run (the default)")
    _common(run)
    run.add_argument("--modes", default="production,embedded")
    run.add_argument("--no-reference", dest="reference", action="store_false")
    run.add_argument("--rounds", type=int, default=3, choices=range(1, 10), metavar="N",
                     help="interleaved rounds of every scenario (default 3); each row of the "
                          "table is its median round, with every round's ratio below it")
    from bench import extra_commands

    extra_commands.register(sub, _common)
    rep = sub.add_parser("report", help="Markdown table from a results.jsonl")
    rep.add_argument("jsonl")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    typed = list(argv)  # as the user typed it, for results.md
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        argv = ["run", *argv]
    args = build_parser().parse_args(argv)
    args.argv = typed
    if args.command == "run":
        run_side_by_side(args)
    elif args.command == "report":
        print(report.markdown(report.read_rows(Path(args.jsonl))))
    else:
        args.handler(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
