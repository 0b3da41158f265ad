"""Signing keys and the key ring (app/keys.py): publish before sign, old keys verify until
their tokens expire, every process picks the same key."""

from __future__ import annotations

import json
import time
from datetime import timedelta

from joserfc import jwt
from joserfc.jwk import KeySet

from app.extensions import db, frontdesk_state
from app.keys import (
    PUBLISH_SECONDS,
    KeyRing,
    choose_signing_row,
    ensure_signing_keys,
    rotate_keys,
)
from app.models import SigningKey
from app.models._types import utcnow
from app.secretbox import unseal


def _rows():
    return db.session.scalars(db.select(SigningKey).order_by(SigningKey.created_at)).all()


def _age_all(seconds: int) -> None:
    """Pretend every key was created (and activated) `seconds` ago."""
    for row in _rows():
        row.created_at -= timedelta(seconds=seconds)
        if row.activated_at:
            row.activated_at -= timedelta(seconds=seconds)
    db.session.commit()


def _fresh_ring(app) -> KeyRing:
    return KeyRing(frontdesk_state(app).settings.secret_key)


def test_ensure_creates_active_and_next_per_algorithm(app):
    with app.app_context():
        states = sorted((r.alg, r.state) for r in _rows())
        assert states == [("ES256", "active"), ("ES256", "next"),
                          ("RS256", "active"), ("RS256", "next")]
        assert ensure_signing_keys(frontdesk_state().settings.secret_key) is False


def test_private_keys_are_sealed(app):
    with app.app_context():
        row = _rows()[0]
        assert '"d"' not in row.private_jwk
        assert '"d"' in unseal(frontdesk_state().settings.secret_key, "signing-key",
                               row.private_jwk)
        assert '"d"' not in row.public_jwk


def test_jwks_publishes_next_keys_before_they_sign(app):
    with app.app_context():
        ring = _fresh_ring(app)
        published = {k["kid"] for k in json.loads(ring.jwks_bytes)["keys"]}
        assert {r.kid for r in _rows()} == published
        next_rs = next(r for r in _rows() if r.alg == "RS256" and r.state == "next")
        assert ring.signing_key("RS256").kid != next_rs.kid


def test_rotation_publishes_then_signs(app):
    with app.app_context():
        secret = frontdesk_state().settings.secret_key
        _age_all(PUBLISH_SECONDS + 10)  # the next key has been published long enough
        old = _fresh_ring(app).signing_key("RS256").kid
        promoted = rotate_keys(secret, keep_retired_seconds=3600)
        new = next(r.kid for r in promoted if r.alg == "RS256")
        ring = _fresh_ring(app)
        assert ring.signing_key("RS256").kid == new
        kids = {k["kid"] for k in json.loads(ring.jwks_bytes)["keys"]}
        assert old in kids and new in kids


def test_young_key_waits_while_the_previous_one_signs(app):
    with app.app_context():
        secret = frontdesk_state().settings.secret_key
        _age_all(PUBLISH_SECONDS + 10)
        first = rotate_keys(secret, keep_retired_seconds=3600)  # promotes the old next key
        _age_all(0)
        ring = _fresh_ring(app)
        signer = ring.signing_key("RS256").kid
        assert signer == next(r.kid for r in first if r.alg == "RS256")
        # rotate again at once: the new active key was created seconds ago
        rotate_keys(secret, keep_retired_seconds=3600)
        assert _fresh_ring(app).signing_key("RS256").kid == signer


def test_token_signed_before_rotation_verifies_after_it_through_jwks(app, client):
    with app.test_request_context():
        from app.oauth.signing import sign_jwt

        token = sign_jwt({"iss": "x", "exp": int(time.time()) + 600})
        _age_all(PUBLISH_SECONDS + 10)
        rotate_keys(frontdesk_state().settings.secret_key, keep_retired_seconds=3600)
        frontdesk_state().keyring.reload()
    keys = KeySet.import_key_set(client.get("/.well-known/jwks.json").get_json())
    assert jwt.decode(token, keys).claims["iss"] == "x"


def test_retired_keys_go_once_their_tokens_expired(app):
    with app.app_context():
        secret = frontdesk_state().settings.secret_key
        rotate_keys(secret, keep_retired_seconds=60)
        retired = {r.kid for r in _rows() if r.state == "retired"}
        assert len(retired) == 2
        _age_all(0)
        for row in _rows():
            if row.retired_at:
                row.retired_at -= timedelta(seconds=60 + PUBLISH_SECONDS + 1)
        db.session.commit()
        rotate_keys(secret, keep_retired_seconds=60)
        assert not retired & {r.kid for r in _rows()}


def test_every_process_picks_the_same_key(app):
    with app.app_context():
        _age_all(PUBLISH_SECONDS + 10)
        rotate_keys(frontdesk_state().settings.secret_key, keep_retired_seconds=3600)
        rings = [_fresh_ring(app) for _ in range(3)]
        assert len({r.signing_key("RS256").kid for r in rings}) == 1
        assert len({r.signing_key("ES256").kid for r in rings}) == 1
        assert len({r.jwks_etag for r in rings}) == 1


def test_choose_signing_row_rules():
    now = utcnow()
    old, young = now - timedelta(seconds=PUBLISH_SECONDS + 1), now - timedelta(seconds=5)

    def row(kid, state, created, activated=None):
        return SigningKey(kid=kid, alg="RS256", state=state, created_at=created,
                          activated_at=activated, private_jwk="", public_jwk="")

    assert choose_signing_row([row("a", "active", old, old)], "RS256", now).kid == "a"
    rows = [row("r", "retired", old, old), row("a", "active", young, now)]
    assert choose_signing_row(rows, "RS256", now).kid == "r"
    assert choose_signing_row([row("a", "active", young, now)], "RS256", now).kid == "a"
    assert choose_signing_row([], "RS256", now) is None


def test_ring_reloads_at_most_every_30_seconds(app):
    with app.app_context():
        ring = _fresh_ring(app)
        etag = ring.jwks_etag
        _age_all(PUBLISH_SECONDS + 10)
        rotate_keys(frontdesk_state().settings.secret_key, keep_retired_seconds=3600)
        assert ring.jwks_etag == etag  # cached
        ring.loaded_at -= 31
        assert ring.jwks_etag != etag


def test_ring_creates_missing_keys(app):
    with app.app_context():
        for row in _rows():
            db.session.delete(row)
        db.session.commit()
        ring = _fresh_ring(app)
        assert ring.signing_key("ES256").kid
        assert len(_rows()) == 4
