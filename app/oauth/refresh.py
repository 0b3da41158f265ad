"""Refresh tokens: storage by hash, rotation, reuse detection, grace window
(RFC 6749 §6, §10.4; RFC 9700 §4.14.2).

Every use rotates the token. Presenting a token that was already rotated means that two
parties hold it: the whole family is revoked. Except within `refresh_grace_seconds` of the
rotation: a retry (two tabs, a lost response) gets the very same successor response. We
keep only hashes, so that response is kept in the store under the old token's hash,
sealed with a key derived from the secret key *and the old token itself*: only the holder
of the old token can open it, and only for the grace window.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from authlib.oauth2.rfc6749 import InvalidGrantError
from sqlalchemy import bindparam, insert, select, update

from app.extensions import db, frontdesk_state
from app.models import Client, RefreshToken, record_event
from app.models._types import utcnow
from app.oauth.claims_subject import (
    USER_COLUMNS,
    ClaimsUser,
    claims_user_of,
    with_user_and_groups,
)
from app.oauth.tokens import (
    Subject,
    refresh_token_seconds,
    revoke_access_tokens_until_now,
    revoke_refresh_family,
    token_hash,
)
from app.readonly_db import autocommit_connection, fetch_rows
from app.secretbox import SecretBoxError, seal, unseal

GRACE_PREFIX = "rt_next:"
GRACE_PURPOSE = "refresh-grace:"

# Storage, without the ORM session: statements built once (SQLAlchemy only binds
# values), run on autocommit connections. Finding a token is one SELECT of the token, its
# user and the user's groups; rotating is one statement on PostgreSQL (a data-modifying CTE
# marks the old row rotated and inserts the successor only if it did: atomic on its own),
# and an UPDATE and an INSERT in one transaction elsewhere (SQLite has no such CTE).
_TOKENS = RefreshToken.__table__
_COLUMNS = tuple(c.key for c in _TOKENS.c)
# Only what the grant reads: the driver builds a description object per result column.
_READ = ("family_id", "client_id", "scope", "auth_time", "amr", "acr", "code_hash",
         "expires_at", "rotated_at", "revoked")
_FIND = (
    select(*(_TOKENS.c[key] for key in _READ), *USER_COLUMNS)
    .select_from(with_user_and_groups(_TOKENS, _TOKENS.c.user_id))
    .where(_TOKENS.c.token_hash == bindparam("token_hash")))
_INSERT = insert(_TOKENS)
_MARK_ROTATED = (update(_TOKENS)
                 .where(_TOKENS.c.token_hash == bindparam("old_hash"),
                        _TOKENS.c.rotated_at.is_(None), _TOKENS.c.revoked.is_(False))
                 .values(rotated_at=bindparam("now"), successor_hash=bindparam("new_hash")))
_SUCCESSOR = select(*(bindparam("new_" + c.key, type_=c.type) for c in _TOKENS.c))
_ROTATE = (insert(_TOKENS)
           .from_select(_COLUMNS, _SUCCESSOR.select_from(
               _MARK_ROTATED.returning(_TOKENS.c.token_hash).cte("rotated")))
           .returning(_TOKENS.c.token_hash))


@dataclass(frozen=True)
class StoredRefreshToken:
    """What the grant reads of a refresh_tokens row, without an ORM identity. It answers
    Authlib's TokenMixin with RefreshToken's own methods."""

    token_hash: str
    user_id: str
    family_id: str
    client_id: str
    scope: str
    auth_time: int | None
    amr: str
    acr: str | None
    code_hash: str | None
    expires_at: datetime
    rotated_at: datetime | None
    revoked: bool

    check_client = RefreshToken.check_client
    get_scope = RefreshToken.get_scope
    get_expires_in = RefreshToken.get_expires_in
    is_expired = RefreshToken.is_expired
    is_revoked = RefreshToken.is_revoked
    amr_list = RefreshToken.amr_list


def find_refresh_token(raw: str) -> tuple[StoredRefreshToken, ClaimsUser] | None:
    """The live (not revoked, not expired) token row and its user, in one query."""
    if not raw or len(raw) > 512:
        return None
    digest = token_hash(raw)
    rows = fetch_rows(db.engine, _FIND, {"token_hash": digest})
    if not rows:
        return None
    user = claims_user_of(rows)
    row = StoredRefreshToken(token_hash=digest, user_id=user.id,
                             **dict(zip(_READ, rows[0][:len(_READ)], strict=True)))
    if row.revoked or row.is_expired():
        return None
    return row, user


def subject_of(row: StoredRefreshToken, user: ClaimsUser) -> Subject:
    """The authentication a refresh token carries forward (auth_time stays the original)."""
    return Subject(user=user, auth_time=row.auth_time, amr=row.amr_list, acr=row.acr,
                   code_hash=row.code_hash, family_id=row.family_id)


def _new_row(raw: str, client: Client, subject: Subject, scope: str) -> dict[str, Any]:
    digest = token_hash(raw)
    now = utcnow()
    return {
        "token_hash": digest, "family_id": subject.family_id or digest,
        "client_id": client.client_id, "user_id": subject.user.id, "scope": scope,
        "auth_time": subject.auth_time, "amr": " ".join(subject.amr)[:64],
        "acr": subject.acr, "nonce": subject.nonce, "code_hash": subject.code_hash,
        "issued_at": now, "expires_at": now + timedelta(seconds=refresh_token_seconds(client)),
        "rotated_at": None, "successor_hash": None, "revoked": False}


def add_refresh_token(raw: str, client: Client, subject: Subject, scope: str) -> None:
    """Store a new token (its hash): one INSERT, committed on its own."""
    with autocommit_connection(db.engine) as conn:
        conn.execute(_INSERT, _new_row(raw, client, subject, scope))


def _grace_seconds() -> int:
    return max(0, frontdesk_state().settings.refresh_grace_seconds)


def _sealed_successor(row: StoredRefreshToken, raw: str) -> dict[str, Any] | None:
    sealed = frontdesk_state().store.get(GRACE_PREFIX + row.token_hash)
    if sealed is None:
        return None
    try:
        return json.loads(unseal(frontdesk_state().settings.secret_key,
                                 GRACE_PURPOSE + raw, sealed))
    except (SecretBoxError, ValueError):
        return None


def replay_in_grace(row: StoredRefreshToken, raw: str) -> dict[str, Any] | None:
    """The successor response of a token rotated less than the grace window ago."""
    grace = _grace_seconds()
    if not grace or row.rotated_at is None:
        return None
    if (utcnow() - row.rotated_at).total_seconds() > grace:
        return None
    return _sealed_successor(row, raw)


def reject_reuse(row: StoredRefreshToken) -> InvalidGrantError:
    """A rotated token came back after the grace window: revoke its family (RFC 9700
    §4.14.2) and the access tokens the user holds for that client, whoever refreshed last,
    and commit; returns the error to raise."""
    revoke_refresh_family(row.family_id)
    record_event("refresh_token_reuse", user_id=row.user_id, client_id=row.client_id)
    db.session.commit()  # before the store write: embedded, both are one SQLite file
    revoke_access_tokens_until_now(row.user_id, row.client_id)
    return InvalidGrantError("The refresh token was already used; its family is revoked.")


def rotate_refresh_token(row: StoredRefreshToken, raw: str, token: dict[str, Any],
                         client: Client, subject: Subject) -> dict[str, Any]:
    """Record `token` as the successor of `row` and return the response to send.

    The store entry doubles as the lock between concurrent rotations of one token: the
    request that creates it rotates; the others answer with its response (grace) or, with
    no grace window, as reuse.
    """
    state = frontdesk_state()
    key = GRACE_PREFIX + row.token_hash
    sealed = seal(state.settings.secret_key, GRACE_PURPOSE + raw, json.dumps(token))
    if not state.store.add(key, sealed, max(1, _grace_seconds())):
        winner = _sealed_successor(row, raw) if _grace_seconds() else None
        if winner is None:
            raise reject_reuse(row)
        return winner
    try:
        _store_rotation(row, _new_row(token["refresh_token"], client, subject, row.scope))
    except Exception:
        state.store.delete(key)
        raise
    return token


def _store_rotation(row: StoredRefreshToken, successor: dict[str, Any]) -> None:
    """Mark `row` rotated and insert its successor, both or neither; InvalidGrantError if
    `row` was rotated or revoked in the meantime."""
    marked = {"old_hash": row.token_hash, "now": successor["issued_at"],
              "new_hash": successor["token_hash"]}
    if db.engine.dialect.name == "postgresql":
        with autocommit_connection(db.engine) as conn:
            inserted = conn.execute(
                _ROTATE, marked | {"new_" + k: v for k, v in successor.items()}).first()
        if inserted is None:
            raise InvalidGrantError("The refresh token is no longer valid.")
        return
    with db.engine.begin() as conn:
        if conn.execute(_MARK_ROTATED, marked).rowcount != 1:
            raise InvalidGrantError("The refresh token is no longer valid.")
        conn.execute(_INSERT, successor)
