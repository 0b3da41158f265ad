"""E-mailed one-time codes (sign-up confirmation, password reset).

A *flow* is a random id the browser carries (`?flow=`); the store keeps, under it, the address,
a SHA-256 of the 6-digit code and the flow's data, with a TTL. Codes are single use (atomic pop),
expire, and allow `code_max_attempts` wrong entries. One address has one live flow per purpose:
starting a new one voids the previous. A *dummy* flow (unknown address, existing account at
sign-up) looks the same from outside but no code ever matches it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from app.accounts.storekeys import subject_key
from app.config import Settings
from app.store import Store

CODE_DIGITS = 6
FLOW_ID_MAX = 64


class CodeError(Exception):
    """The code was not accepted: reason is invalid | expired | exhausted."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class CodeFlow:
    id: str
    purpose: str
    email: str
    code_hash: str | None
    data: dict[str, Any] = field(default_factory=dict)
    created_at: float = field(default_factory=time.time)

    @property
    def is_dummy(self) -> bool:
        return self.code_hash is None


def generate_code() -> str:
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


def hash_code(flow_id: str, code: str) -> str:
    return hashlib.sha256(f"{flow_id}:{code}".encode()).hexdigest()


def normalize_code(code: str | None) -> str:
    return "".join(ch for ch in (code or "") if ch.isalnum())[:32]


def _flow_key(purpose: str, flow_id: str) -> str:
    return f"code:{purpose}:{flow_id}"


def _attempts_key(purpose: str, flow_id: str) -> str:
    return f"codeatt:{purpose}:{flow_id}"


def _address_key(purpose: str, email: str) -> str:
    return f"codeaddr:{purpose}:{subject_key(email)}"


def start_flow(store: Store, settings: Settings, purpose: str, email: str,
               data: dict[str, Any] | None = None, *, real: bool = True) -> tuple[CodeFlow, str]:
    """A new flow for the address (voiding its previous one); returns it and the code."""
    flow_id = secrets.token_urlsafe(24)
    code = generate_code()
    flow = CodeFlow(id=flow_id, purpose=purpose, email=email, data=dict(data or {}),
                    code_hash=hash_code(flow_id, code) if real else None)
    _save(store, settings, flow)
    previous = store.get(_address_key(purpose, email))
    store.set(_address_key(purpose, email), flow_id, settings.code_ttl_seconds)
    if previous and previous != flow_id:
        store.delete(_flow_key(purpose, previous), _attempts_key(purpose, previous))
    return flow, code


def _save(store: Store, settings: Settings, flow: CodeFlow) -> None:
    store.set_json(_flow_key(flow.purpose, flow.id), asdict(flow), settings.code_ttl_seconds)


def load_flow(store: Store, purpose: str, flow_id: str | None) -> CodeFlow | None:
    if not flow_id or len(flow_id) > FLOW_ID_MAX:
        return None
    data = store.get_json(_flow_key(purpose, flow_id))
    return CodeFlow(**data) if data else None


def reissue_code(store: Store, settings: Settings, flow: CodeFlow) -> str:
    """A fresh code for a live flow (resend): new TTL, attempts start again."""
    code = generate_code()
    if not flow.is_dummy:
        flow.code_hash = hash_code(flow.id, code)
    flow.created_at = time.time()
    _save(store, settings, flow)
    store.delete(_attempts_key(flow.purpose, flow.id))
    return code


def verify_code(store: Store, settings: Settings, purpose: str, flow_id: str | None,
                code: str | None) -> CodeFlow:
    """The flow whose code this is, consumed; raises CodeError otherwise."""
    flow = load_flow(store, purpose, flow_id)
    if flow is None:
        raise CodeError("expired")
    attempts = store.incr(_attempts_key(purpose, flow.id), settings.code_ttl_seconds)
    if attempts > settings.code_max_attempts:
        discard_flow(store, flow)
        raise CodeError("exhausted")
    candidate = hash_code(flow.id, normalize_code(code))
    if flow.code_hash is None or not hmac.compare_digest(candidate, flow.code_hash):
        if attempts >= settings.code_max_attempts:
            discard_flow(store, flow)
            raise CodeError("exhausted")
        raise CodeError("invalid")
    if store.pop(_flow_key(purpose, flow.id)) is None:  # a concurrent request used it
        raise CodeError("expired")
    discard_flow(store, flow)
    return flow


def discard_flow(store: Store, flow: CodeFlow) -> None:
    store.delete(_flow_key(flow.purpose, flow.id), _attempts_key(flow.purpose, flow.id))
    address = _address_key(flow.purpose, flow.email)
    if store.get(address) == flow.id:
        store.delete(address)


def live_flow(store: Store, purpose: str, email: str) -> CodeFlow | None:
    """The address's current flow for this purpose, if any."""
    return load_flow(store, purpose, store.get(_address_key(purpose, email)))
