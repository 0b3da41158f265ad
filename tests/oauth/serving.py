"""Serving a test app over real HTTP on 127.0.0.1 (threaded), for code that calls the
issuer URL itself (the demo app) and for clients that need a socket."""

from __future__ import annotations

import threading
from contextlib import contextmanager

from werkzeug.serving import make_server

from tests.live import free_port


@contextmanager
def serving(app, port: int):
    """Serve `app` on 127.0.0.1:`port` until the block ends."""
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()


__all__ = ["free_port", "serving"]
