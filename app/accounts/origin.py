"""Where a request came from, as the rules need it (the rules never see the request)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Origin:
    ip: str | None = None
    client_id: str | None = None
