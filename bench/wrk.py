"""Single-URL scenarios with wrk (Debian package `wrk`), which costs the machine far less CPU per
request than a Python client: discovery, JWKS, client_credentials, userinfo, introspection.

Each scenario's request (URL, method, headers, body) is built with the aiohttp client first and
checked once for a correct answer; wrk then repeats it. wrk counts any non-2xx as an error.
"""

from __future__ import annotations

import asyncio
import json
import resource
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from bench import driver, hashmeter, oidc, procstat

REPORTER = Path(__file__).with_name("wrk_report.lua")
SCENARIOS = ("client_credentials", "userinfo", "introspection", "discovery", "jwks")


@dataclass
class Request:
    url: str
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None


def available() -> bool:
    return shutil.which("wrk") is not None


FORM = "application/x-www-form-urlencoded"


async def build_request(target: driver.Target, scenario: str) -> Request:
    """The request to repeat, after one real, checked run of the scenario's operation."""
    rp = target.rp
    async with driver.new_session(1) as http:
        provider = await oidc.discover(http, rp.issuer)
        ctx = driver.Context(http, provider, target)
        prepare, operation = driver.REGISTRY[scenario]
        state = await prepare(ctx)
        await operation(ctx, state)  # raises if the server answers wrongly
    if scenario == "discovery":
        return Request(rp.issuer + "/.well-known/openid-configuration")
    if scenario == "jwks":
        return Request(provider.metadata["jwks_uri"])
    if scenario == "userinfo":
        return Request(provider.endpoint("userinfo_endpoint"),
                       headers={"Authorization": f"Bearer {state[0].access_token}"})
    auth = {**oidc.basic_auth(rp), "Content-Type": FORM}
    if scenario == "client_credentials":
        return Request(provider.endpoint("token_endpoint"), "POST", auth,
                       urlencode({"grant_type": "client_credentials"}))
    return Request(provider.endpoint("introspection_endpoint"), "POST", auth,
                   urlencode({"token": state[0].access_token}))


def _script(request: Request, directory: Path) -> Path:
    lines = [f"wrk.method = {json.dumps(request.method)}"]
    lines += [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in request.headers.items()]
    if request.body is not None:
        lines.append(f"wrk.body = {json.dumps(request.body)}")
    path = directory / "request.lua"
    path.write_text("\n".join(lines) + "\n" + REPORTER.read_text())
    return path


async def _wrk(request: Request, duration: float, concurrency: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="fdbench-wrk-") as tmp:
        script = _script(request, Path(tmp))
        proc = await asyncio.create_subprocess_exec(
            "wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(duration))}s",
            "--timeout", "10s", "-s", str(script), request.url,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = await proc.communicate()
    line = next((ln for ln in out.decode().splitlines() if ln.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {err.decode()[-500:]} {out.decode()[-500:]}")
    return json.loads(line.removeprefix("BENCH_JSON "))


def _children_cpu_ms() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (usage.ru_utime + usage.ru_stime) * 1000


async def run_scenario(target: driver.Target, scenario: str, duration: float,
                       concurrency: int, warmup: float = 0.0) -> dict:
    request = await build_request(target, scenario)
    if warmup > 0:
        await _wrk(request, warmup, concurrency)
    db_before, hash_before = target.backend_ticks(), target.hash_totals()
    before, wrk_before = procstat.snapshot(target.server_pid), _children_cpu_ms()
    data = await _wrk(request, duration, concurrency)
    after, wrk_after = procstat.snapshot(target.server_pid), _children_cpu_ms()
    db_cpu = procstat.ticks_delta_ms(db_before, target.backend_ticks()) if db_before else None
    hash_cpu = hashmeter.delta_ms(hash_before, target.hash_totals())
    tally = driver.Tally(errors=data["errors"])
    if data["errors"]:
        tally.error_samples.append(f"wrk: {data['errors']} errors ({data['non_2xx']} non-2xx)")
    return driver.summarize(
        target, scenario, tally, data["duration_us"] / 1e6, concurrency,
        server_cpu_ms=procstat.cpu_ms(before, after), driver_cpu_ms=wrk_after - wrk_before,
        tool="wrk", percentiles={k: round(data[k], 2) for k in ("p50_ms", "p95_ms", "p99_ms")},
        ops=data["requests"] - data["non_2xx"], db_cpu_ms=db_cpu, hash_cpu_ms=hash_cpu)
