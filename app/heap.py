"""The garbage collector in a serving process.

Building the app leaves some 110 000 long-lived objects (routes, templates, SQLAlchemy
metadata, Authlib and Babel state). Python's full collections walk all of them again and
again, and requests paid for it: about 0.5 ms of CPU per login flow on the bench machine
(gc.callbacks, in a process holding 150 000 such objects). Moved to the permanent
generation once the app is built, they are never walked again; the collector then sees
only what requests allocate.
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> None:
    """Collect what start-up left behind, then freeze the rest. Call once the app is built,
    in the process that serves (a forked worker inherits the frozen generation)."""
    gc.collect()
    gc.freeze()
