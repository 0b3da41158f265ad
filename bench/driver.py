"""The load driver: each scenario for a bounded duration at a set concurrency.

A scenario is a `prepare` (per concurrent worker, not measured: e.g. a login to get a refresh
token) and an `operation` repeated until the deadline. Around the measured window the driver
snapshots the server's process tree in /proc, so each result carries the server's CPU per
operation next to ops/s and latency percentiles.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bench import hashmeter, oidc, procstat

SCENARIOS = ("login", "refresh", "client_credentials", "userinfo", "introspection",
             "discovery", "jwks")


@dataclass
class Target:
    """A running provider and what the bench may do with it."""

    name: str
    rp: oidc.Relying
    accounts: list[oidc.Account]
    server_pid: int
    kind: str = "frontdesk"  # frontdesk | reference
    settings: dict = field(default_factory=dict)
    # PostgreSQL backends serving this target (not in its process tree), if any.
    backend_pids: Callable[[], list[int]] | None = None
    # Where the server meters its password hashes (bench/metered_wsgi.py), if it does.
    hash_meter_dir: Path | None = None

    def backend_ticks(self) -> dict[int, int] | None:
        return procstat.ticks_by_pid(self.backend_pids()) if self.backend_pids else None

    def hash_totals(self) -> dict[int, int]:
        return hashmeter.read_totals(self.hash_meter_dir)


@dataclass
class Context:
    http: aiohttp.ClientSession
    provider: oidc.Provider
    target: Target
    _accounts: itertools.cycle = None

    def next_account(self) -> oidc.Account:
        if self._accounts is None:
            self._accounts = itertools.cycle(self.target.accounts)
        return next(self._accounts)


Prepare = Callable[[Context], Awaitable[object]]
Operation = Callable[[Context, object], Awaitable[object]]


def _percentile(sorted_ms: list[float], q: float) -> float:
    if not sorted_ms:
        return 0.0
    index = min(len(sorted_ms) - 1, max(0, round(q / 100 * len(sorted_ms) + 0.5) - 1))
    return round(sorted_ms[index], 2)


# --- scenarios --------------------------------------------------------------------------


async def _none(_ctx: Context) -> None:
    return None


async def _login_tokens(ctx: Context) -> list:
    return [await oidc.login_flow(ctx.http, ctx.provider, ctx.target.rp, ctx.next_account())]


async def _op_login(ctx: Context, _state) -> None:
    await oidc.login_flow(ctx.http, ctx.provider, ctx.target.rp, ctx.next_account())


async def _op_refresh(ctx: Context, state: list) -> None:
    state[0] = await oidc.refresh(ctx.http, ctx.provider, ctx.target.rp, state[0])


async def _op_client_credentials(ctx: Context, _state) -> None:
    await oidc.client_credentials(ctx.http, ctx.provider, ctx.target.rp)


async def _op_userinfo(ctx: Context, state: list) -> None:
    await oidc.userinfo(ctx.http, ctx.provider, state[0].access_token)


async def _op_introspection(ctx: Context, state: list) -> None:
    await oidc.introspect(ctx.http, ctx.provider, ctx.target.rp, state[0].access_token)


async def _op_discovery(ctx: Context, _state) -> None:
    await oidc.fetch(ctx.http, ctx.target.rp.issuer + "/.well-known/openid-configuration")


async def _op_jwks(ctx: Context, _state) -> None:
    await oidc.fetch(ctx.http, ctx.provider.metadata["jwks_uri"])


REGISTRY: dict[str, tuple[Prepare, Operation]] = {
    "login": (_none, _op_login),
    "refresh": (_login_tokens, _op_refresh),
    "client_credentials": (_none, _op_client_credentials),
    "userinfo": (_login_tokens, _op_userinfo),
    "introspection": (_login_tokens, _op_introspection),
    "discovery": (_none, _op_discovery),
    "jwks": (_none, _op_jwks),
}


# --- running ----------------------------------------------------------------------------


@dataclass
class Tally:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)

    def fail(self, exc: BaseException) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(f"{type(exc).__name__}: {exc}"[:300])


# One bound per operation (a login flow is five requests), not per request: aiohttp's
# per-request timeout costs a timer and a task lookup on every request of the driver.
OPERATION_TIMEOUT = 30.0


async def _worker(ctx: Context, operation: Operation, state, deadline: float,
                  tally: Tally, max_ops: int | None = None) -> None:
    while time.monotonic() < deadline and (max_ops is None or len(tally.latencies_ms) < max_ops):
        started = time.perf_counter()
        try:
            async with asyncio.timeout(OPERATION_TIMEOUT):
                await operation(ctx, state)
        except (TimeoutError, oidc.FlowError, aiohttp.ClientError, ValueError, KeyError) as exc:
            tally.fail(exc)
            await asyncio.sleep(0.01)  # a failing server must not turn into a busy loop
            continue
        tally.latencies_ms.append((time.perf_counter() - started) * 1000)


async def _prepare_all(ctx: Context, prepare: Prepare, concurrency: int) -> list:
    states = []
    for _ in range(concurrency):  # sequential: setup logins must not overload a tiny server
        async with asyncio.timeout(OPERATION_TIMEOUT):
            states.append(await prepare(ctx))
    return states


def new_session(concurrency: int, request_timeout: float | None = 30) -> aiohttp.ClientSession:
    """request_timeout=None: no timer per request; the caller bounds each operation."""
    connector = aiohttp.TCPConnector(limit=concurrency * 2, ttl_dns_cache=None,
                                     force_close=False)
    return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar(),
                                 timeout=aiohttp.ClientTimeout(total=request_timeout))


async def run_scenario(target: Target, scenario: str, duration: float,
                       concurrency: int, warmup: float = 0.0, max_ops: int | None = None) -> dict:
    """One scenario against one target; returns the result row (a dict, one JSON line)."""
    prepare, operation = REGISTRY[scenario]
    async with new_session(concurrency, request_timeout=None) as http:
        async with asyncio.timeout(OPERATION_TIMEOUT):
            provider = await oidc.discover(http, target.rp.issuer)
        ctx = Context(http, provider, target)
        states = await _prepare_all(ctx, prepare, concurrency)
        if warmup > 0:  # JIT, caches and connection pools settle; not measured
            deadline = time.monotonic() + warmup
            await asyncio.gather(*(_worker(ctx, operation, state, deadline, Tally())
                                   for state in states))
        return await _measure(ctx, scenario, operation, states, duration, max_ops)


async def _measure(ctx: Context, scenario: str, operation: Operation, states: list,
                   duration: float, max_ops: int | None = None) -> dict:
    tally = Tally()
    target = ctx.target
    db_before, hash_before = target.backend_ticks(), target.hash_totals()
    before = procstat.snapshot(target.server_pid)
    driver_before = procstat.own_cpu_seconds()  # tight around the load: no /proc scans inside
    started = time.monotonic()
    await asyncio.gather(*(_worker(ctx, operation, state, started + duration, tally, max_ops)
                           for state in states))
    elapsed = time.monotonic() - started
    driver_after = procstat.own_cpu_seconds()
    after = procstat.snapshot(target.server_pid)
    db_cpu = procstat.ticks_delta_ms(db_before, target.backend_ticks()) if db_before else None
    return summarize(target, scenario, tally, elapsed, len(states),
                     server_cpu_ms=procstat.cpu_ms(before, after),
                     driver_cpu_ms=(driver_after - driver_before) * 1000, tool="aiohttp",
                     db_cpu_ms=db_cpu,
                     hash_cpu_ms=hashmeter.delta_ms(hash_before, target.hash_totals()))


def summarize(target: Target, scenario: str, tally: Tally, elapsed: float, concurrency: int,
              server_cpu_ms: float, driver_cpu_ms: float, tool: str,
              percentiles: dict | None = None, ops: int | None = None,
              db_cpu_ms: float | None = None, hash_cpu_ms: float | None = None) -> dict:
    """The result row. `hash_cpu_ms`: the server's password-hash CPU over the window as its
    meter read it (None: not metered), reported per op as server_hash_cpu_ms."""
    ops = len(tally.latencies_ms) if ops is None else ops
    lat = sorted(tally.latencies_ms)
    pct = percentiles or {f"p{q}_ms": _percentile(lat, q) for q in (50, 95, 99)}
    metered = {} if hash_cpu_ms is None else {
        "server_hash_cpu_ms": round(hash_cpu_ms / ops, 3) if ops else None}
    return {
        "target": target.name, "kind": target.kind, "scenario": scenario, "tool": tool,
        "duration_s": round(elapsed, 2), "concurrency": concurrency, "ops": ops,
        "ops_per_s": round(ops / elapsed, 1) if elapsed else 0.0, **pct,
        "errors": tally.errors, "error_samples": tally.error_samples,
        "server_cpu_ms": round(server_cpu_ms, 1),
        "server_cpu_ms_per_op": round(server_cpu_ms / ops, 3) if ops else None,
        "driver_cpu_ms_per_op": round(driver_cpu_ms / ops, 3) if ops else None,
        "db_cpu_ms_per_op": round(db_cpu_ms / ops, 3) if ops and db_cpu_ms is not None
        else None,
        **metered,
        **{f"server_{k}": v for k, v in procstat.worker_memory(target.server_pid).items()},
        "loadavg": os.getloadavg()[0], "settings": target.settings,
        "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
