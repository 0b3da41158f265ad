"""Smoke run of the benchmark suite, so it cannot rot silently: the one command against a real
gunicorn server (PostgreSQL + Redis in production mode, SQLite + SQL store otherwise), the
seeding script and `frontdesk hash-calibrate`. No timing is asserted, only that every scenario
completes operations without errors and the reports carry every figure."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, func, select, text

import bench.__main__ as bench_main
from app.cli import main
from app.cli_calibrate import OWASP_MEMORY_KIB, OWASP_TIME_COST, propose
from bench import oidc, report, seed, servers
from bench.driver import SCENARIOS
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL

MODE = "production" if TEST_DATABASE_URL else "embedded"


@pytest.fixture(scope="module")
def instance(tmp_path_factory):
    """One migrated instance with the bench client and one user, made through the CLI, on the
    test PostgreSQL/Redis in production mode (the bench's own defaults otherwise)."""
    with pytest.MonkeyPatch.context() as patch:
        if TEST_DATABASE_URL:
            patch.setattr(servers, "POSTGRES_URL", TEST_DATABASE_URL)
            patch.setattr(servers, "REDIS_URL", TEST_REDIS_URL)
        inst = servers.prepare_frontdesk(MODE, tmp_path_factory.mktemp("bench"), accounts=1)
    yield inst
    inst.cleanup()


def _database_url(inst: servers.FrontdeskInstance) -> str:
    return inst.database_url or f"sqlite:///{inst.directory / 'frontdesk.db'}"


def test_seed_inserts_users_and_refresh_tokens(instance):
    url = _database_url(instance)
    result = seed.seed(url, users=40, tokens=25, client_id=servers.CLIENT_ID)
    assert result["users"] == 40 and result["refresh_tokens"] == 25
    engine = create_engine(url)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT email_verified, status, password_hash FROM users "
                                "WHERE email = :e"), {"e": seed.email_for(39)}).one()
        assert bool(row.email_verified) and row.status == "enabled"
        assert row.password_hash.startswith("$argon2id$")
        assert conn.scalar(select(func.count()).select_from(text("refresh_tokens"))) == 25
        orphans = conn.scalar(text(
            "SELECT count(*) FROM refresh_tokens r LEFT JOIN users u ON u.id = r.user_id "
            "WHERE u.id IS NULL"))
        assert orphans == 0
    engine.dispose()
    with pytest.raises(ValueError):
        seed.seed(url, users=0, tokens=3)


def test_driver_runs_every_scenario(instance, tmp_path):
    """Every scenario against gunicorn; a seeded user (same argon2id hash) logs in too."""
    instance.accounts.append(oidc.Account(seed.email_for(7), servers.PASSWORD))
    args = bench_main.build_parser().parse_args(
        ["run", "--duration", "0.6", "--warmup", "0", "--concurrency", "2", "--workers", "1",
         "--server", "gunicorn", "--no-wrk", "--out", str(tmp_path)])
    server = servers.start_frontdesk(instance, bench_main.spec_from(args))
    try:
        rows = bench_main.measure([server.target], list(SCENARIOS), args,
                                  tmp_path / "results.jsonl")
    finally:
        server.stop()
    assert [r["scenario"] for r in rows] == list(SCENARIOS)
    for row in rows:
        assert row["errors"] == 0, (row["scenario"], row["error_samples"])
        assert row["ops"] > 0 and row["ops_per_s"] > 0
        assert row["p50_ms"] <= row["p95_ms"] <= row["p99_ms"]
        assert row["server_cpu_ms_per_op"] is not None
        assert row["server_max_peak_rss_mib"] > 0 and row["server_workers"] == 1
        assert row["settings"]["mode"] == MODE
    assert rows[0]["hash_cpu_ms"] > 0
    assert len(report.read_rows(tmp_path / "results.jsonl")) == len(SCENARIOS)
    table = report.markdown(rows)
    assert f"| frontdesk-{MODE} | login |" in table and "server CPU ms/op" in table


def test_calibration_never_goes_below_owasp_minimum():
    fast = lambda m, t, rounds: m * t / 20000  # noqa: E731 - ~2 ms at the minimum
    slow = lambda m, t, rounds: m * t / 400  # noqa: E731 - ~97 ms at the minimum
    assert propose(50, 262144, measure=slow).memory_kib == OWASP_MEMORY_KIB
    assert propose(50, 262144, measure=slow).time_cost == OWASP_TIME_COST
    capped = propose(50, 65536, measure=fast)
    assert capped.memory_kib == 65536 and capped.time_cost > OWASP_TIME_COST
    grown = propose(50, 10**7, measure=fast)
    assert grown.memory_kib > OWASP_MEMORY_KIB and grown.time_cost == OWASP_TIME_COST
    assert abs(grown.measured_ms - 50) < 5


def test_hash_calibrate_command_prints_settings(runner):
    result = runner.invoke(main, ["hash-calibrate", "--target-ms", "1", "--rounds", "1"])
    assert result.exit_code == 0, result.output
    assert f"FRONTDESK_ARGON2_MEMORY_KIB={OWASP_MEMORY_KIB}" in result.output
    assert f"FRONTDESK_ARGON2_TIME_COST={OWASP_TIME_COST}" in result.output
    assert "FRONTDESK_ARGON2_PARALLELISM=1" in result.output
    bad = runner.invoke(main, ["hash-calibrate", "--max-memory-kib", "1024"])
    assert bad.exit_code == 2
