"""`gunicorn bench.variant_wsgi:app`: Frontdesk with proposed hot-path changes applied from
outside, to measure what a change would win before anyone edits app/ (see FINDINGS.md).

BENCH_VARIANTS is a comma-separated list of:
  no_pre_ping    SQLAlchemy pool_pre_ping off (one round trip per connection checkout)
  es256_access   access tokens signed ES256 instead of RS256
"""

from __future__ import annotations

import os

import app as app_package

VARIANTS = {v for v in os.environ.get("BENCH_VARIANTS", "").split(",") if v}
KNOWN = {"no_pre_ping", "es256_access"}
if VARIANTS - KNOWN:
    raise SystemExit(f"unknown BENCH_VARIANTS: {sorted(VARIANTS - KNOWN)}")

if "no_pre_ping" in VARIANTS:
    _configure = app_package._configure_flask

    def _configure_without_ping(flask_app, settings):
        _configure(flask_app, settings)
        flask_app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] = False

    app_package._configure_flask = _configure_without_ping

if "es256_access" in VARIANTS:
    import app.oauth.tokens as tokens

    tokens.ACCESS_TOKEN_ALG = "ES256"

app = app_package.create_app()
