"""`gunicorn bench.variant_wsgi:app`: Frontdesk with proposed hot-path changes applied from
outside, to measure what a change would win before anyone edits app/ (see FINDINGS.md).

BENCH_VARIANTS is a comma-separated list of:
  es256_access   access tokens signed ES256 instead of RS256

(The earlier variants no_pre_ping and client_cache were adopted in app/ and removed here.)
"""

from __future__ import annotations

import os

import app as app_package

VARIANTS = {v for v in os.environ.get("BENCH_VARIANTS", "").split(",") if v}
KNOWN = {"es256_access"}
if VARIANTS - KNOWN:
    raise SystemExit(f"unknown BENCH_VARIANTS: {sorted(VARIANTS - KNOWN)}")

if "es256_access" in VARIANTS:
    import app.oauth.tokens as tokens

    tokens.ACCESS_TOKEN_ALG = "ES256"

app = app_package.create_app(migrations=False)
