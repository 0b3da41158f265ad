"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`.

Frontdesk processes are stateless (sessions and pending requests live in Redis or the
database), so any number of workers, on any number of machines, can serve one issuer.
Each value can be changed without editing this file, with gunicorn's own command-line
options or GUNICORN_CMD_ARGS, e.g. GUNICORN_CMD_ARGS="--bind 0.0.0.0:8000 --workers 8".
"""

import multiprocessing
import os

# Behind a reverse proxy that terminates TLS; listen on loopback unless told otherwise
# (--bind 0.0.0.0:8000 on the command line or in GUNICORN_CMD_ARGS).
bind = "127.0.0.1:8000"

# Work is CPU-bound (argon2id ~12 ms, signatures) with short waits on PostgreSQL and Redis:
# one process per core, two threads each for the waits. Not more: every thread that hashes a
# password keeps a 19 MiB argon2id buffer (4 threads measured 178 MiB per worker against the
# 150 MiB budget; bench/README.md, "WSGI server"). `frontdesk serve` (granian) is the default.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))
worker_class = "gthread"
threads = 2

# A request that takes longer than this is stuck (the slowest path is one argon2 hash plus a
# few queries); the worker is replaced. Backends time out earlier (Redis 2 s, PostgreSQL
# connect 3 s), so an outage answers 503 instead of hanging.
timeout = 30
graceful_timeout = 30
keepalive = 5  # seconds an idle keep-alive connection from the proxy stays open

# Recycle workers now and then (jittered, so they do not restart together).
max_requests = 10000
max_requests_jitter = 1000

# Authorization requests can carry long query strings (request objects, many scopes).
limit_request_line = 8190

# Trust X-Forwarded-Proto only from the proxies Frontdesk trusts (FRONTDESK_TRUSTED_PROXIES,
# default this machine). The app itself takes the client's address from X-Forwarded-For and
# the scheme from X-Forwarded-Proto of those peers (app.proxies), under any WSGI server.
forwarded_allow_ips = os.environ.get(
    "FORWARDED_ALLOW_IPS", os.environ.get("FRONTDESK_TRUSTED_PROXIES", "127.0.0.1,::1"))

accesslog = "-"  # stdout; secrets in URLs (code=..., tokens) are redacted by app.logs
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")


def on_starting(server):
    """Migrate the database and create signing keys once, in the master, before the
    workers start (so N workers never race to create the first keys)."""
    from app import create_app
    from app.cli import upgrade_database
    from app.extensions import db

    app = create_app()
    with app.app_context():
        upgrade_database()
        db.engine.dispose()  # no connection crosses the fork into the workers
