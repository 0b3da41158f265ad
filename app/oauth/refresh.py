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
from datetime import timedelta
from typing import Any

from authlib.oauth2.rfc6749 import InvalidGrantError
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from app.extensions import db, frontdesk_state
from app.models import Client, RefreshToken, User, record_event
from app.models._types import utcnow
from app.oauth.tokens import Subject, refresh_token_seconds, revoke_refresh_family, token_hash
from app.secretbox import SecretBoxError, seal, unseal

GRACE_PREFIX = "rt_next:"
GRACE_PURPOSE = "refresh-grace:"


def find_refresh_token(raw: str) -> tuple[RefreshToken, User] | None:
    """The live (not revoked, not expired) token row and its user, in one query."""
    if not raw or len(raw) > 512:
        return None
    stmt = (select(RefreshToken, User).join(User, User.id == RefreshToken.user_id)
            .where(RefreshToken.token_hash == token_hash(raw))
            .options(joinedload(User.groups)))
    found = db.session.execute(stmt).unique().first()
    if found is None or found[0].revoked or found[0].is_expired():
        return None
    return found[0], found[1]


def subject_of(row: RefreshToken, user: User) -> Subject:
    """The authentication a refresh token carries forward (auth_time stays the original)."""
    return Subject(user=user, auth_time=row.auth_time, amr=row.amr_list, acr=row.acr,
                   code_hash=row.code_hash, family_id=row.family_id)


def add_refresh_token(raw: str, client: Client, subject: Subject, scope: str) -> RefreshToken:
    """Add a token row to the session (the caller commits)."""
    row = RefreshToken(
        token_hash=token_hash(raw), family_id=subject.family_id or token_hash(raw),
        client_id=client.client_id, user_id=subject.user.id, scope=scope,
        auth_time=subject.auth_time, amr=" ".join(subject.amr)[:64], acr=subject.acr,
        nonce=subject.nonce, code_hash=subject.code_hash,
        expires_at=utcnow() + timedelta(seconds=refresh_token_seconds(client)))
    db.session.add(row)
    return row


def _grace_seconds() -> int:
    return max(0, frontdesk_state().settings.refresh_grace_seconds)


def _sealed_successor(row: RefreshToken, raw: str) -> dict[str, Any] | None:
    sealed = frontdesk_state().store.get(GRACE_PREFIX + row.token_hash)
    if sealed is None:
        return None
    try:
        return json.loads(unseal(frontdesk_state().settings.secret_key,
                                 GRACE_PURPOSE + raw, sealed))
    except (SecretBoxError, ValueError):
        return None


def replay_in_grace(row: RefreshToken, raw: str) -> dict[str, Any] | None:
    """The successor response of a token rotated less than the grace window ago."""
    grace = _grace_seconds()
    if not grace or row.rotated_at is None:
        return None
    if (utcnow() - row.rotated_at).total_seconds() > grace:
        return None
    return _sealed_successor(row, raw)


def reject_reuse(row: RefreshToken) -> InvalidGrantError:
    """A rotated token came back after the grace window: revoke its family (RFC 9700
    §4.14.2) and commit; returns the error to raise."""
    revoke_refresh_family(row.family_id)
    record_event("refresh_token_reuse", user_id=row.user_id, client_id=row.client_id)
    db.session.commit()
    return InvalidGrantError("The refresh token was already used; its family is revoked.")


def rotate_refresh_token(row: RefreshToken, raw: str, token: dict[str, Any],
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
        _mark_rotated(row, token["refresh_token"])
        add_refresh_token(token["refresh_token"], client, subject, row.scope)
        db.session.commit()
    except Exception:
        db.session.rollback()
        state.store.delete(key)
        raise
    return token


def _mark_rotated(row: RefreshToken, successor: str) -> None:
    result = db.session.execute(
        update(RefreshToken)
        .where(RefreshToken.token_hash == row.token_hash, RefreshToken.rotated_at.is_(None),
               RefreshToken.revoked.is_(False))
        .values(rotated_at=utcnow(), successor_hash=token_hash(successor))
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise InvalidGrantError("The refresh token is no longer valid.")
