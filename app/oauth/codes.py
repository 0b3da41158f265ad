"""Authorization codes in the store (RFC 6749 §4.1.2, §10.5; RFC 9700 §4.5).

A code is stored only as its SHA-256, with a short TTL, and redeemed with an atomic
get-and-delete: among concurrent redemptions exactly one wins. Redeeming leaves a marker
(`code_used:<hash>`) naming the access token id and refresh family chosen for it, so that
a replay can revoke everything issued from the code.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

from app.extensions import db, frontdesk_state
from app.models import record_event
from app.oauth.tokens import (
    deny_access_token,
    new_access_token_id,
    new_opaque_token,
    revoke_access_tokens_until_now,
    revoke_refresh_family,
    token_hash,
)
from app.store import Store

CODE_PREFIX = "code:"
USED_PREFIX = "code_used:"


@dataclass
class AuthorizationCode:
    """What a code is bound to (Authlib's AuthorizationCodeMixin, OIDC flavour)."""

    client_id: str
    redirect_uri: str
    scope: str
    user_id: str
    auth_time: int
    amr: list[str] = field(default_factory=list)
    acr: str | None = None
    nonce: str | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    code_hash: str = ""
    # chosen at redemption, so that a replay can find what was issued
    jti: str = ""
    family_id: str = ""

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> str | None:
        return self.acr

    def get_amr(self) -> list[str]:
        return self.amr


def save_code(code: str, data: AuthorizationCode, store: Store | None = None) -> None:
    """Store a fresh code for settings.code_seconds (through `store`, e.g. a batch)."""
    state = frontdesk_state()
    data.code_hash = token_hash(code)
    stored = {k: v for k, v in asdict(data).items() if k not in ("jti", "family_id")}
    (store or state.store).set_json(CODE_PREFIX + data.code_hash, stored,
                                    state.settings.code_seconds)


def redeem_code(code: str, marker_seconds: int) -> AuthorizationCode | None:
    """Take a code out of the store (single use) and leave the replay marker."""
    if not code or len(code) > 512:
        return None
    store = frontdesk_state().store
    digest = token_hash(code)
    data = store.pop_json(CODE_PREFIX + digest)
    if data is None:
        return None
    found = AuthorizationCode(**data)
    found.jti, found.family_id = new_access_token_id(), new_opaque_token()
    store.set_json(USED_PREFIX + digest, {
        "jti": found.jti, "family_id": found.family_id, "client_id": found.client_id,
        "user_id": found.user_id, "exp": int(time.time()) + marker_seconds,
    }, marker_seconds)
    return found


def revoke_replayed_code(code: str) -> bool:
    """A code came back after it was redeemed: revoke its access token, its refresh family
    and the access tokens the user holds for that client (RFC 6749 §4.1.2 "SHOULD revoke").
    True when the code was a known, used one."""
    if not code or len(code) > 512:
        return False
    store = frontdesk_state().store
    marker = store.pop_json(USED_PREFIX + token_hash(code))
    if marker is None:
        return False
    deny_access_token(marker["jti"], marker["exp"])
    revoke_refresh_family(marker["family_id"])
    record_event("authorization_code_replay", user_id=marker.get("user_id"),
                 client_id=marker.get("client_id"))
    db.session.commit()  # before the store write: embedded, both are one SQLite file
    if marker.get("user_id") and marker.get("client_id"):  # and what the family refreshed to
        revoke_access_tokens_until_now(marker["user_id"], marker["client_id"])
    return True
