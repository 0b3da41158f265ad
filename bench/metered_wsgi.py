"""`granian ... bench.metered_wsgi:app`: the production app of wsgi.py with every argon2
verification's thread CPU time metered into $BENCH_HASH_METER_DIR/<pid> (bench/hashmeter.py).

The login row's "excl. hash" figure subtracts this, the hash as it costs inside the loaded
server, rather than one verification timed in the quiet driver process. Without
$BENCH_HASH_METER_DIR the app is wsgi.py's, unchanged.
"""

from __future__ import annotations

from bench import hashmeter

hashmeter.install()  # before the app is built: modules imported later bind the metered one

from wsgi import app  # noqa: E402 - after install() on purpose

__all__ = ["app"]
