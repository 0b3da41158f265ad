"""`gunicorn -w 1 bench.profile_wsgi:app`: Frontdesk under cProfile, for finding hot paths.

Every request runs inside one process-wide profiler timing CPU (time.process_time: waiting
for PostgreSQL or Redis costs the server nothing and does not show); the stats are written to
$BENCH_PROFILE_OUT every 25 requests (read them with `python -m pstats FILE`, or let
`bench/run profile` print the top functions per scenario). Use one sync worker.
"""

from __future__ import annotations

import cProfile
import os
import time

from app import create_app


class ProfilingMiddleware:
    def __init__(self, wsgi_app, out: str):
        self.wsgi_app, self.out = wsgi_app, out
        self.profiler = cProfile.Profile(time.process_time)
        self.requests = 0

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") == "/_bench/profile/reset":
            self.profiler = cProfile.Profile(time.process_time)
            self.requests = 0
            start_response("204 No Content", [])
            return []
        self.profiler.enable()
        try:
            body = self.wsgi_app(environ, start_response)
            return [b"".join(body)] if isinstance(body, list) else list(body)
        finally:
            self.profiler.disable()
            self.requests += 1
            if self.requests % 25 == 0:
                self.profiler.dump_stats(self.out)


app = create_app()
app.wsgi_app = ProfilingMiddleware(app.wsgi_app, os.environ.get("BENCH_PROFILE_OUT",
                                                                "frontdesk.prof"))
