"""`gunicorn bench.variant_wsgi:app`: Frontdesk with proposed hot-path changes applied from
outside, to measure what a change would win before anyone edits app/ (see FINDINGS.md).

BENCH_VARIANTS is a comma-separated list of:
  no_pre_ping    SQLAlchemy pool_pre_ping off (one round trip per connection checkout)
  es256_access   access tokens signed ES256 instead of RS256
  client_cache   Authlib's query_client served from a per-process cache (5 s TTL) of
                 detached Client rows (a sketch of finding 1; superseded by the
                 snapshot cache in app/oauth since 9399d63)
"""

from __future__ import annotations

import os

import app as app_package

VARIANTS = {v for v in os.environ.get("BENCH_VARIANTS", "").split(",") if v}
KNOWN = {"no_pre_ping", "es256_access", "client_cache"}
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

if "client_cache" in VARIANTS:
    import time

    from sqlalchemy import inspect as sa_inspect

    import app.oauth.server as server
    from app.extensions import db

    _query_client = server.query_client
    _clients: dict[str, tuple[float, object]] = {}

    def cached_query_client(client_id):
        hit = _clients.get(client_id) if isinstance(client_id, str) else None
        if hit and hit[0] > time.monotonic():
            return hit[1]
        client = _query_client(client_id)
        if client is not None:
            if sa_inspect(client, raiseerr=False) is not None:  # an ORM row, not a snapshot
                db.session.expunge(client)
            _clients[client_id] = (time.monotonic() + 5, client)
        return client

    server.query_client = cached_query_client

app = app_package.create_app()
