"""Sub-commands beyond the side-by-side run."""

from __future__ import annotations


def register(sub, common) -> None:
    return None
