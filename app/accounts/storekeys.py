"""Store keys that never carry an e-mail address or an IP in clear."""

from __future__ import annotations

import hashlib


def subject_key(value: str) -> str:
    """A short, stable, non-reversible key for an address or an IP."""
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]
