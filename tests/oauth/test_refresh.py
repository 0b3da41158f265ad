"""Refresh tokens (app/oauth/refresh.py): rotation, reuse detection, the grace window,
scope narrowing, expiry, lifetimes, storage by hash only."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from authlib.oauth2.rfc6749 import InvalidGrantError

from app.extensions import db, frontdesk_state
from app.models import RefreshToken, User
from app.models._types import utcnow
from app.oauth.client_cache import cached_client
from app.oauth.refresh import GRACE_PREFIX, find_refresh_token, rotate_refresh_token, subject_of
from app.oauth.tokens import revoke_refresh_family, token_hash
from tests.oauth.conftest import Flow, add_client, add_user
from tests.oauth.helpers import verify_jwt


def refresh(flow, oauth_client, token, **extra):
    return flow.token(oauth_client, {"grant_type": "refresh_token", "refresh_token": token,
                                     **extra})


def test_refresh_rotates_the_token(flow, client, oauth_client, app):
    first = flow.tokens(oauth_client)
    response = refresh(flow, oauth_client, first["refresh_token"])
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    second = response.get_json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    with app.app_context():
        old = db.session.get(RefreshToken, token_hash(first["refresh_token"]))
        new = db.session.get(RefreshToken, token_hash(second["refresh_token"]))
        assert old.rotated_at is not None and old.successor_hash == new.token_hash
        assert new.family_id == old.family_id
        # only hashes are stored
        assert db.session.scalar(db.select(db.func.count()).select_from(RefreshToken).where(
            RefreshToken.token_hash == first["refresh_token"])) == 0


def test_refreshed_id_token_keeps_the_authentication(flow, client, oauth_client):
    first = flow.tokens(oauth_client)
    second = refresh(flow, oauth_client, first["refresh_token"]).get_json()
    _, original = verify_jwt(client, first["id_token"])
    _, renewed = verify_jwt(client, second["id_token"])
    assert original["nonce"] and "nonce" not in renewed
    for claim in ("iss", "sub", "aud", "auth_time", "amr"):
        assert renewed[claim] == original[claim]
    assert renewed["at_hash"] != original["at_hash"]


def test_reuse_after_the_grace_window_revokes_the_family(app, client, flow, oauth_client):
    first = flow.tokens(oauth_client)
    second = refresh(flow, oauth_client, first["refresh_token"]).get_json()
    with app.app_context():  # the rotation happened long ago
        row = db.session.get(RefreshToken, token_hash(first["refresh_token"]))
        row.rotated_at = utcnow() - timedelta(seconds=60)
        db.session.commit()
    reuse = refresh(flow, oauth_client, first["refresh_token"])
    assert reuse.status_code == 400 and reuse.get_json()["error"] == "invalid_grant"
    legit = refresh(flow, oauth_client, second["refresh_token"])
    assert legit.status_code == 400 and legit.get_json()["error"] == "invalid_grant"
    for tokens in (first, second):  # whoever holds them: the access tokens go too
        userinfo = client.get("/oauth2/userinfo",
                              headers={"Authorization": "Bearer " + tokens["access_token"]})
        assert userinfo.status_code == 401
    with app.app_context():
        from app.models import AuditEvent

        assert db.session.scalar(db.select(AuditEvent).where(
            AuditEvent.type == "refresh_token_reuse")) is not None


def test_retry_within_the_grace_window_gets_the_same_successor(flow, oauth_client):
    first = flow.tokens(oauth_client)
    second = refresh(flow, oauth_client, first["refresh_token"]).get_json()
    retry = refresh(flow, oauth_client, first["refresh_token"])
    assert retry.status_code == 200
    assert retry.get_json() == second
    # the family lives on
    third = refresh(flow, oauth_client, second["refresh_token"])
    assert third.status_code == 200


def test_grace_window_ends(app_with):
    app = app_with(refresh_grace_seconds=1)
    flow, oauth_client = _flow_for(app)
    first = flow.tokens(oauth_client)
    second = refresh(flow, oauth_client, first["refresh_token"]).get_json()
    time.sleep(2.1)
    assert refresh(flow, oauth_client, first["refresh_token"]).status_code == 400
    assert refresh(flow, oauth_client, second["refresh_token"]).status_code == 400


def test_no_grace_window_when_set_to_zero(app_with):
    app = app_with(refresh_grace_seconds=0)
    flow, oauth_client = _flow_for(app)
    first = flow.tokens(oauth_client)
    second = refresh(flow, oauth_client, first["refresh_token"]).get_json()
    assert refresh(flow, oauth_client, first["refresh_token"]).status_code == 400
    assert refresh(flow, oauth_client, second["refresh_token"]).status_code == 400


def test_grace_response_is_sealed_with_the_old_token(app, flow, oauth_client):
    first = flow.tokens(oauth_client)
    second = refresh(flow, oauth_client, first["refresh_token"]).get_json()
    with app.app_context():
        from app.extensions import frontdesk_state
        from app.oauth.refresh import GRACE_PREFIX

        sealed = frontdesk_state().store.get(GRACE_PREFIX + token_hash(first["refresh_token"]))
    assert sealed and second["refresh_token"] not in sealed
    assert second["access_token"] not in sealed


def test_concurrent_refreshes_share_one_successor(app, flow, oauth_client):
    first = flow.tokens(oauth_client)
    results, barrier = [], threading.Barrier(4)

    def attempt():
        browser = app.test_client()
        barrier.wait()
        results.append(browser.post("/oauth2/token", data={
            "grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
            headers=_basic(oauth_client)))

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ok = [r.get_json() for r in results if r.status_code == 200]
    assert len(ok) == 4, [r.get_json() for r in results]
    assert len({body["refresh_token"] for body in ok}) == 1
    with app.app_context():
        family = db.session.get(RefreshToken, token_hash(first["refresh_token"])).family_id
        rows = db.session.scalars(db.select(RefreshToken).where(
            RefreshToken.family_id == family)).all()
        assert len(rows) == 2 and not any(r.revoked for r in rows)


def _basic(oauth_client):
    from tests.oauth.helpers import basic_auth

    return basic_auth(oauth_client["client_id"], oauth_client["client_secret"])


def test_narrower_scope_applies_to_the_access_token_only(flow, client, oauth_client):
    first = flow.tokens(oauth_client)
    narrow = refresh(flow, oauth_client, first["refresh_token"], scope="openid").get_json()
    assert narrow["scope"] == "openid"
    assert verify_jwt(client, narrow["access_token"])[1]["scope"] == "openid"
    full = refresh(flow, oauth_client, narrow["refresh_token"]).get_json()
    assert full["scope"] == "openid profile email"


def test_wider_scope_is_invalid_scope(flow, oauth_client):
    first = flow.tokens(oauth_client)
    response = refresh(flow, oauth_client, first["refresh_token"], scope="openid phone")
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_scope"


def test_refresh_token_is_bound_to_its_client(flow, app, oauth_client):
    other = add_client(app, is_first_party=True)
    first = flow.tokens(oauth_client)
    response = refresh(flow, other, first["refresh_token"])
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"
    assert refresh(flow, oauth_client, first["refresh_token"]).status_code == 200


def test_expired_refresh_token_is_invalid_grant(app, flow, oauth_client):
    first = flow.tokens(oauth_client)
    with app.app_context():
        row = db.session.get(RefreshToken, token_hash(first["refresh_token"]))
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    response = refresh(flow, oauth_client, first["refresh_token"])
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"


def test_unknown_or_missing_refresh_token(flow, oauth_client):
    assert refresh(flow, oauth_client, "nope").get_json()["error"] == "invalid_grant"
    response = flow.token(oauth_client, {"grant_type": "refresh_token"})
    assert response.get_json()["error"] == "invalid_request"


def test_disabled_user_cannot_refresh(app, flow, oauth_client, user):
    first = flow.tokens(oauth_client)
    with app.app_context():
        db.session.get(User, user["id"]).status = "disabled"
        db.session.commit()
    response = refresh(flow, oauth_client, first["refresh_token"])
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"


def test_refresh_needs_the_grant(app, flow):
    oauth_client = add_client(app, is_first_party=True)
    first = flow.tokens(oauth_client)
    with app.app_context():
        from app.models import Client

        db.session.get(Client, oauth_client["client_id"]).grant_types = ["authorization_code"]
        db.session.commit()
    response = refresh(flow, oauth_client, first["refresh_token"])
    assert response.get_json()["error"] == "unauthorized_client"


def test_per_client_refresh_lifetime(app, flow):
    oauth_client = add_client(app, is_first_party=True, refresh_token_seconds=7200)
    first = flow.tokens(oauth_client)
    with app.app_context():
        row = db.session.get(RefreshToken, token_hash(first["refresh_token"]))
        assert abs((row.expires_at - utcnow()).total_seconds() - 7200) < 60


def test_default_refresh_lifetime(app, flow, oauth_client):
    first = flow.tokens(oauth_client)
    with app.app_context():
        row = db.session.get(RefreshToken, token_hash(first["refresh_token"]))
        assert abs((row.expires_at - utcnow()).total_seconds() - 30 * 86400) < 60


def test_public_client_refreshes_with_its_client_id(flow, public_client):
    first = flow.tokens(public_client)
    response = flow.token(public_client, {"grant_type": "refresh_token",
                                          "refresh_token": first["refresh_token"]},
                          method="none")
    assert response.status_code == 200


def _flow_for(app):
    return Flow(app, app.test_client(), add_user(app)), add_client(app, is_first_party=True)


def test_token_revoked_between_lookup_and_rotation(app, flow, oauth_client):
    """A revocation that lands after the grant found the token: the rotation refuses with
    invalid_grant, stores no successor and releases its grace entry (the lock)."""
    raw = flow.tokens(oauth_client)["refresh_token"]
    with app.test_request_context():
        row, user = find_refresh_token(raw)
        revoke_refresh_family(row.family_id)
        db.session.commit()
        successor = {"access_token": "a", "refresh_token": "successor-" + "x" * 40}
        with pytest.raises(InvalidGrantError):
            rotate_refresh_token(row, raw, successor, cached_client(row.client_id),
                                 subject_of(row, user))
        assert db.session.get(RefreshToken, token_hash(successor["refresh_token"])) is None
        assert frontdesk_state().store.get(GRACE_PREFIX + row.token_hash) is None
        assert db.session.get(RefreshToken, row.token_hash).rotated_at is None
