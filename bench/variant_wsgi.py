"""`gunicorn bench.variant_wsgi:app`: Frontdesk with proposed hot-path changes applied from
outside, to measure what a change would win before anyone edits app/ (see FINDINGS.md).

BENCH_VARIANTS is a comma-separated list of:
  es256_access   access tokens signed ES256 instead of RS256 (FRONTDESK_ACCESS_TOKEN_ALG)

(The earlier variants no_pre_ping, client_cache and no_client_version were adopted in app/
and removed here; no_client_version measured what app/store_mirror.py now does.)
"""

from __future__ import annotations

import os

from bench import hashmeter

hashmeter.install()  # with $BENCH_HASH_METER_DIR (bench/servers.py sets it), as metered_wsgi

import app as app_package  # noqa: E402 - after install() on purpose
from app.heap import freeze_startup_heap  # noqa: E402

VARIANTS = {v for v in os.environ.get("BENCH_VARIANTS", "").split(",") if v}
KNOWN = {"es256_access"}
if VARIANTS - KNOWN:
    raise SystemExit(f"unknown BENCH_VARIANTS: {sorted(VARIANTS - KNOWN)}")

if "es256_access" in VARIANTS:
    os.environ["FRONTDESK_ACCESS_TOKEN_ALG"] = "ES256"

app = app_package.create_app(migrations=False)
freeze_startup_heap()  # as wsgi.py
