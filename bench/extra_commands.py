"""Sub-commands beyond the side-by-side run: servers, roundtrips, soak, scale."""

from __future__ import annotations

import json
import re
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from bench import driver, oidc, procstat, report, seed, servers

DEFAULT_CONFIGS = ("gunicorn:sync:1:1,gunicorn:sync:2:1,gunicorn:sync:4:1,"
                   "gunicorn:gthread:2:4,granian:-:2:1,granian:-:2:4")


def _main():
    import bench.__main__ as main  # late: __main__ imports this module

    return main


def parse_configs(text: str) -> list[servers.ServeSpec]:
    """'server:class:workers:threads,...' e.g. gunicorn:gthread:2:4 or granian:-:2:1."""
    specs = []
    for item in filter(None, text.split(",")):
        server, worker_class, workers, threads = item.split(":")
        specs.append(servers.ServeSpec(server=server, workers=int(workers),
                                       worker_class=worker_class if worker_class != "-"
                                       else "sync", threads=int(threads),
                                       app=servers.METERED_APP))
    return specs


# --- servers: WSGI server configurations ----------------------------------------------------


def run_servers(args) -> list[dict]:
    main = _main()
    out = main._out_dir(args)
    jsonl = out / "servers.jsonl"
    rows = []
    with tempfile.TemporaryDirectory(prefix="fdbench-") as tmp:
        inst = servers.prepare_frontdesk(args.mode, Path(tmp))
        try:
            for spec, variants in _combinations(args):
                name = spec.label + (f" +{variants}" if variants else "")
                server = servers.start_frontdesk(inst, spec, name=name,
                                                 extra_env={"BENCH_VARIANTS": variants})
                try:
                    rows += [main.measure_one(server.target, s, args, jsonl)
                             for s in args.scenarios.split(",")]
                finally:
                    server.stop()
        finally:
            inst.cleanup()
    text = report.markdown(rows, f"WSGI servers ({args.mode})")
    (out / "servers.md").write_text(text)
    print(text)
    return rows


def _combinations(args) -> list[tuple[servers.ServeSpec, str]]:
    """Each server configuration, with each variant set (bench/variant_wsgi.py) if given."""
    variant_sets = args.variants.split(";") if args.variants else [""]
    combos = []
    for spec in parse_configs(args.configs):
        for variants in variant_sets:
            variants = "" if variants == "none" else variants
            if variants:
                spec = servers.ServeSpec(spec.server, spec.workers, spec.worker_class,
                                         spec.threads, app="bench.variant_wsgi:app")
            combos.append((spec, variants))
    return combos


# --- roundtrips: DB and store trips per request ---------------------------------------------

ID_SEGMENT = re.compile(r"/[A-Za-z0-9_-]{16,}(?=/|$)")


def _normalize(path: str) -> str:
    return ID_SEGMENT.sub("/{id}", path)


def _read_log(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


async def _trips_for(target: driver.Target, scenario: str, log: Path, repeat: int) -> list:
    prepare, operation = driver.REGISTRY[scenario]
    async with driver.new_session(1) as http:
        ctx = driver.Context(http, await oidc.discover(http, target.rp.issuer), target)
        state = await prepare(ctx)
        await operation(ctx, state)  # warm: key ring, caches, pooled connections
        await _sentinel(http, target)
        log.write_text("")
        for _ in range(repeat):
            await operation(ctx, state)
        await _sentinel(http, target)
    return [e for e in _read_log(log) if e["path"] != SENTINEL]


SENTINEL = "/healthz"


async def _sentinel(http, target: driver.Target) -> None:
    """A request after the measured ones: one sync worker serves requests in order, so once
    this is answered every earlier request has been closed and logged."""
    async with http.get(target.rp.issuer + SENTINEL) as resp:
        await resp.read()


def summarize_trips(scenario: str, entries: list[dict], repeat: int) -> list[dict]:
    grouped = defaultdict(list)
    for entry in entries:
        grouped[(entry["method"], _normalize(entry["path"]))].append(entry)
    rows = []
    for (method, path), items in grouped.items():
        rows.append({"scenario": scenario, "request": f"{method} {path}",
                     "status": items[-1]["status"],
                     "db": round(sum(i["db"] for i in items) / repeat, 1),
                     "store": round(sum(i["store"] for i in items) / repeat, 1),
                     "db_ops": items[-1]["db_ops"], "store_ops": items[-1]["store_ops"]})
    return rows


def trips_table(rows: list[dict]) -> str:
    lines = ["| scenario | request | DB trips | store trips | DB statements (last request) "
             "| store commands (last request) |", "|---|---|---:|---:|---|---|"]
    for r in rows:
        lines.append(f"| {r['scenario']} | `{r['request']}` | {r['db']:g} | {r['store']:g} "
                     f"| {', '.join(r['db_ops']) or '–'} | {', '.join(r['store_ops']) or '–'} |")
    totals = defaultdict(lambda: [0.0, 0.0])
    for r in rows:
        totals[r["scenario"]][0] += r["db"]
        totals[r["scenario"]][1] += r["store"]
    lines += ["", "| scenario | DB trips per operation | store trips per operation |",
              "|---|---:|---:|"]
    lines += [f"| {s} | {d:g} | {t:g} |" for s, (d, t) in totals.items()]
    return "\n".join(lines)


def run_roundtrips(args) -> list[dict]:
    main = _main()
    out = main._out_dir(args)
    rows, text = [], []
    with tempfile.TemporaryDirectory(prefix="fdbench-") as tmp:
        for mode in filter(None, args.modes.split(",")):
            inst = servers.prepare_frontdesk(mode, Path(tmp), accounts=2)
            log = inst.directory / "roundtrips.jsonl"
            spec = servers.ServeSpec(workers=1, app="bench.count_wsgi:app")
            server = servers.start_frontdesk(inst, spec, extra_env={"BENCH_ROUNDTRIP_LOG":
                                                                    str(log)})
            mode_rows = []
            try:
                for scenario in args.scenarios.split(","):
                    entries = main.run_async(_trips_for(server.target, scenario, log,
                                                        args.repeat))
                    mode_rows += summarize_trips(scenario, entries, args.repeat)
            finally:
                server.stop()
                inst.cleanup()
            rows += [dict(r, mode=mode) for r in mode_rows]
            text.append(f"## Round trips per request ({mode})\n\n{trips_table(mode_rows)}\n")
    (out / "roundtrips.md").write_text("\n".join(text))
    report.write_rows(out / "roundtrips.jsonl", rows)
    print("\n".join(text))
    return rows


# --- soak: RSS over many flows ----------------------------------------------------------------


def run_soak(args) -> dict:
    main = _main()
    out = main._out_dir(args)
    with tempfile.TemporaryDirectory(prefix="fdbench-") as tmp:
        inst = servers.prepare_frontdesk(args.mode, Path(tmp), accounts=8)
        # The plain production entry: the RSS figures are about wsgi.py, nothing added.
        server = servers.start_frontdesk(inst, main.spec_from(args, app="wsgi:app"))
        sampler = procstat.RssSampler(server.target.server_pid, interval=args.sample_seconds)
        try:
            sampler.start()
            row = main.run_async(driver.run_scenario(
                server.target, "login", args.max_minutes * 60, args.concurrency,
                max_ops=args.flows))
        finally:
            sampler.stop()
            server.stop()
            inst.cleanup()
    workers = sorted({pid for _, sample in sampler.samples for pid in sample}
                     - {server.target.server_pid})
    series = {str(pid): [(t, round(s.get(pid, 0) / 1024, 1)) for t, s in sampler.samples]
              for pid in workers}
    result = {"row": row, "rss_mib_series": series}
    (out / "soak.json").write_text(json.dumps(result))
    print(soak_summary(result))
    return result


def soak_summary(result: dict) -> str:
    row = result["row"]
    lines = [f"{row['ops']} login flows in {row['duration_s']} s ({row['ops_per_s']}/s), "
             f"errors {row['errors']}, p99 {row['p99_ms']} ms", "",
             "| worker | RSS at 10% of the run MiB | RSS at 50% | RSS at end | peak |",
             "|---|---:|---:|---:|---:|"]
    for pid, points in result["rss_mib_series"].items():
        values = [v for _, v in points if v]
        if not values:
            continue
        tenth, half = (values[min(len(values) - 1, int(len(values) * f))] for f in (0.1, 0.5))
        lines.append(f"| {pid} | {tenth} | {half} | {values[-1]} | {max(values)} |")
    return "\n".join(lines)


# --- scale: 1k users vs 1M users --------------------------------------------------------------


def _scale_instance(tmp: Path, users: int, tokens: int, label: str) -> servers.FrontdeskInstance:
    inst = servers.prepare_frontdesk("production", tmp, accounts=0,
                                     database_name=f"frontdesk_bench_scale_{label}")
    started = time.monotonic()
    timings = seed.seed(inst.database_url, users, tokens, servers.CLIENT_ID, servers.PASSWORD)
    _main()._log(f"seeded {users} users + {tokens} refresh tokens in "
                 f"{time.monotonic() - started:.0f} s: {timings}")
    picks = sorted({int(users * f) for f in (0.01, 0.2, 0.4, 0.6, 0.8, 0.99)})
    inst.accounts = [oidc.Account(seed.email_for(n), servers.PASSWORD) for n in picks]
    return inst


def run_scale(args) -> list[dict]:
    main = _main()
    out = main._out_dir(args)
    jsonl = out / "scale.jsonl"
    rows = []
    with tempfile.TemporaryDirectory(prefix="fdbench-") as tmp:
        for users, tokens, label in ((args.small, args.small, "small"),
                                     (args.users, args.refresh_tokens, "large")):
            inst = _scale_instance(Path(tmp), users, tokens, label)
            server = servers.start_frontdesk(inst, main.spec_from(args),
                                             name=f"frontdesk {users} users")
            try:
                rows += [main.measure_one(server.target, s, args, jsonl)
                         for s in args.scenarios.split(",")]
            finally:
                server.stop()
                inst.cleanup()
    text = report.markdown(rows, "Scale") + "\n" + scale_ratios(rows)
    (out / "scale.md").write_text(text)
    print(text)
    return rows


def scale_ratios(rows: list[dict]) -> str:
    by = defaultdict(dict)
    for row in rows:
        by[row["scenario"]][row["target"]] = row
    lines = ["| scenario | p99 small ms | p99 large ms | ratio |", "|---|---:|---:|---:|"]
    for scenario, targets in by.items():
        if len(targets) != 2:
            continue
        small, large = sorted(targets.values(), key=lambda r: int(r["target"].split()[1]))
        lines.append(f"| {scenario} | {small['p99_ms']} | {large['p99_ms']} "
                     f"| {large['p99_ms'] / small['p99_ms']:.2f}× |")
    return "\n".join(lines)


# --- profile: where the server's CPU goes -------------------------------------------------------


async def _profiled(target: driver.Target, scenario: str, args, reset_url: str) -> dict:
    """Prepare (logins for tokens), reset the profiler, then measure: setup is not profiled."""
    prepare, operation = driver.REGISTRY[scenario]
    async with driver.new_session(args.concurrency) as http:
        ctx = driver.Context(http, await oidc.discover(http, target.rp.issuer), target)
        states = await driver._prepare_all(ctx, prepare, args.concurrency)
        for state in states:
            await operation(ctx, state)  # warm
        async with http.get(reset_url) as resp:
            await resp.read()
        return await driver._measure(ctx, scenario, operation, states, args.duration)


def run_profile(args) -> None:
    import io
    import pstats

    main = _main()
    out = main._out_dir(args)
    text = []
    with tempfile.TemporaryDirectory(prefix="fdbench-") as tmp:
        inst = servers.prepare_frontdesk(args.mode, Path(tmp), accounts=2)
        prof = inst.directory / "frontdesk.prof"
        server = servers.start_frontdesk(inst, servers.ServeSpec(workers=1,
                                                                 app="bench.profile_wsgi:app"),
                                         extra_env={"BENCH_PROFILE_OUT": str(prof)})
        try:
            for scenario in args.scenarios.split(","):
                prof.unlink(missing_ok=True)
                row = main.run_async(_profiled(server.target, scenario, args,
                                               inst.issuer + "/_bench/profile/reset"))
                kept = out / f"profile-{args.mode}-{scenario}.prof"
                kept.write_bytes(prof.read_bytes())
                buffer = io.StringIO()
                stats = pstats.Stats(str(kept), stream=buffer)
                stats.sort_stats(args.sort).print_stats(args.filter, args.top)
                text.append(f"## {scenario} ({row['ops']} ops)\n\n```\n{buffer.getvalue()}```\n")
        finally:
            server.stop()
            inst.cleanup()
    (out / f"profile-{args.mode}.md").write_text("\n".join(text))
    print("\n".join(text))


# --- registration -----------------------------------------------------------------------------


def register(sub, common) -> None:
    p = sub.add_parser("servers", help="compare gunicorn sync/gthread and granian")
    common(p)
    p.add_argument("--mode", default="production", choices=["production", "embedded"])
    p.add_argument("--configs", default=DEFAULT_CONFIGS,
                   help="server:class:workers:threads,... (default %(default)s)")
    p.add_argument("--variants", default="",
                   help="';'-separated sets of bench/variant_wsgi.py changes to compare, "
                        "'none' for the unchanged app, e.g. 'none;es256_access'")
    p.set_defaults(handler=run_servers, scenarios="login,refresh,client_credentials,userinfo")

    p = sub.add_parser("roundtrips", help="DB and store round trips per request")
    common(p)
    p.add_argument("--modes", default="production,embedded")
    p.add_argument("--repeat", type=int, default=3)
    p.set_defaults(handler=run_roundtrips,
                   scenarios="login,refresh,client_credentials,userinfo,introspection,"
                             "discovery,jwks")

    p = sub.add_parser("soak", help="RSS per worker over many login flows")
    common(p)
    p.add_argument("--mode", default="production", choices=["production", "embedded"])
    p.add_argument("--flows", type=int, default=100_000)
    p.add_argument("--max-minutes", type=float, default=40)
    p.add_argument("--sample-seconds", type=float, default=5)
    p.set_defaults(handler=run_soak)

    p = sub.add_parser("profile", help="cProfile of the server per scenario (1 sync worker)")
    common(p)
    p.add_argument("--mode", default="production", choices=["production", "embedded"])
    p.add_argument("--sort", default="cumulative")
    p.add_argument("--top", type=int, default=45)
    p.add_argument("--filter", default="", help="regex on file:function, e.g. 'app/'")
    p.set_defaults(handler=run_profile, concurrency=2, duration=4.0,
                   scenarios="login,refresh,client_credentials,userinfo,introspection")

    p = sub.add_parser("scale", help="login/token p99 at 1k users vs many users")
    common(p)
    p.add_argument("--users", type=int, default=1_000_000)
    p.add_argument("--refresh-tokens", type=int, default=1_000_000)
    p.add_argument("--small", type=int, default=1000)
    p.set_defaults(handler=run_scale, scenarios="login,refresh")

    p = sub.add_parser("clean", help="drop what an interrupted run left behind (bench "
                                     "databases, fdbench: keys); never while a bench runs")
    p.set_defaults(handler=run_clean)


def run_clean(_args) -> None:
    names, keys = servers.remove_leftovers()
    print(f"dropped {len(names)} database(s){': ' + ', '.join(names) if names else ''}; "
          f"deleted {keys} Redis key(s) under fdbench:")
