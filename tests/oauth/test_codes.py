"""Authorization codes in the store (app/oauth/codes.py)."""

from __future__ import annotations

from app.extensions import frontdesk_state
from app.oauth.codes import (
    CODE_PREFIX,
    AuthorizationCode,
    redeem_code,
    revoke_replayed_code,
    save_code,
)
from app.oauth.tokens import token_hash


def _code() -> AuthorizationCode:
    return AuthorizationCode(client_id="c", redirect_uri="https://c/cb", scope="openid",
                             user_id="u", auth_time=1, amr=["pwd"], nonce="n",
                             code_challenge="x" * 43, code_challenge_method="S256")


def test_code_is_stored_by_hash_and_redeemed_once(app):
    with app.test_request_context():
        save_code("the-code", _code())
        store = frontdesk_state().store
        assert store.get(CODE_PREFIX + "the-code") is None
        assert store.get(CODE_PREFIX + token_hash("the-code")) is not None
        found = redeem_code("the-code", marker_seconds=60)
        assert found.client_id == "c" and found.nonce == "n" and found.amr == ["pwd"]
        assert found.jti and found.family_id and found.code_hash == token_hash("the-code")
        assert redeem_code("the-code", marker_seconds=60) is None


def test_replay_marker(app):
    with app.test_request_context():
        assert revoke_replayed_code("never-issued") is False
        save_code("c2", _code())
        redeem_code("c2", marker_seconds=60)
        assert revoke_replayed_code("c2") is True


def test_oversized_codes_are_ignored(app):
    with app.test_request_context():
        assert redeem_code("x" * 1000, 60) is None
        assert revoke_replayed_code("x" * 1000) is False
