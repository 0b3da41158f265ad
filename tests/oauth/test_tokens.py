"""Access tokens, verification, deny-list and user-wide revocation (app/oauth/tokens.py)."""

from __future__ import annotations

import base64
import json
import time

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

from app.extensions import frontdesk_state
from app.models import Client
from app.oauth.signing import sign_jwt
from app.oauth.tokens import (
    CUT_PREFIX,
    access_token_revoked,
    access_token_seconds,
    apply_claims_hook,
    deny_access_token,
    issued_ms,
    new_access_token_id,
    refresh_token_seconds,
    revoke_user_tokens,
    token_scopes,
    verify_access_token,
)
from tests.oauth.conftest import Flow, add_client, add_user
from tests.oauth.helpers import verify_jwt


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(**overrides):
    now = int(time.time())
    claims = {"iss": "http://127.0.0.1:5000", "sub": "u1", "aud": "c1", "client_id": "c1",
              "scope": "openid", "jti": "j1", "iat": now, "exp": now + 60}
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def test_verify_access_token_accepts_our_token(flow, app, oauth_client):
    tokens = flow.tokens(oauth_client)
    with app.test_request_context():
        claims = verify_access_token(tokens["access_token"])
    assert claims["client_id"] == oauth_client["client_id"]


@pytest.mark.parametrize("change", [
    {"exp": int(time.time()) - 1},
    {"iss": "https://other.example"},
    {"jti": None},
    {"exp": None},
])
def test_verify_access_token_refuses_bad_claims(app, change):
    with app.test_request_context():
        token = sign_jwt(_claims(**change), "RS256", "at+jwt")
        assert verify_access_token(token) is None


def test_verify_access_token_refuses_other_token_types(app):
    with app.test_request_context():
        assert verify_access_token(sign_jwt(_claims(), "RS256", "JWT")) is None
        assert verify_access_token(sign_jwt(_claims(), "ES256", "at+jwt")) is not None


def test_verify_access_token_refuses_foreign_and_tampered_tokens(app):
    foreign = RSAKey.generate_key(2048, parameters={"kid": "x"})
    with app.test_request_context():
        ours = sign_jwt(_claims(), "RS256", "at+jwt")
        kid = jwt.decode(ours, frontdesk_state().keyring.verification_keys()).header["kid"]
        forged = jwt.encode({"alg": "RS256", "typ": "at+jwt", "kid": kid}, _claims(), foreign)
        assert verify_access_token(forged) is None
        head, body, sig = ours.split(".")
        assert verify_access_token(f"{head}.{body}x.{sig}") is None
        hmac_key = OctKey.import_key(frontdesk_state().keyring.jwks_bytes)
        hs = jwt.encode({"alg": "HS256", "typ": "at+jwt", "kid": kid}, _claims(), hmac_key)
        assert verify_access_token(hs) is None
        unsigned = f"{_b64({'alg': 'none', 'typ': 'at+jwt'})}.{_b64(_claims())}."
        assert verify_access_token(unsigned) is None
        for junk in ("", "abc", "a.b.c", "x" * 10000, None):
            assert verify_access_token(junk) is None


def test_deny_listed_token_does_not_verify(app):
    with app.test_request_context():
        token = sign_jwt(_claims(jti="deny-me"), "RS256", "at+jwt")
        deny_access_token("deny-me", time.time() + 60)
        assert verify_access_token(token) is None


def _userinfo_status(client, tokens) -> int:
    return client.get("/oauth2/userinfo",
                      headers={"Authorization": "Bearer " + tokens["access_token"]}).status_code


def test_revoke_user_tokens(flow, app, client, oauth_client, user):
    first = flow.tokens(oauth_client)
    second = flow.tokens(oauth_client)
    other_client = add_client(app, name="Other", is_first_party=True)
    third = flow.tokens(other_client)
    assert {_userinfo_status(client, t) for t in (first, second, third)} == {200}
    with app.app_context():
        assert revoke_user_tokens(user["id"]) == 3
        assert revoke_user_tokens(user["id"]) == 0
    for tokens in (first, second):
        response = flow.token(oauth_client, {"grant_type": "refresh_token",
                                             "refresh_token": tokens["refresh_token"]})
        assert response.get_json()["error"] == "invalid_grant"
    # the access tokens already issued go too, for every client, with nothing listed
    assert {_userinfo_status(client, t) for t in (first, second, third)} == {401}
    # and a sign-in right after (the same second) is not caught by the cut-off
    assert _userinfo_status(client, flow.tokens(oauth_client)) == 200


def test_cut_off_compares_milliseconds_and_is_per_subject_and_client(app):
    now_ms = time.time_ns() // 1_000_000
    with app.test_request_context():
        before, after = new_access_token_id(), None
        frontdesk_state().store.set(CUT_PREFIX + "u1:c1", str(now_ms + 5), 60)
        time.sleep(0.01)
        after = new_access_token_id()
        assert issued_ms({"jti": before}) <= now_ms + 5 < issued_ms({"jti": after})
        assert access_token_revoked(_claims(jti=before)) is True
        assert access_token_revoked(_claims(jti=after)) is False
        assert access_token_revoked(_claims(jti=before, client_id="c2")) is False
        assert access_token_revoked(_claims(jti=before, sub="u2")) is False
        # a jti without the time (issued before it carried it): the end of its iat second
        old_style = _claims(jti="x" * 43, iat=now_ms // 1000)
        assert issued_ms(old_style) == now_ms // 1000 * 1000 + 999
        assert access_token_revoked(_claims(jti="x" * 43, iat=now_ms // 1000 - 1)) is True
        assert issued_ms(_claims(jti="z" * len(after), iat=7)) == 7999
        assert issued_ms({"jti": "z" * len(after)}) is None
        assert access_token_revoked(_claims(jti="z" * len(after), iat=None)) is True


@pytest.mark.parametrize("seconds, expected", [(None, 3600), (299, 3600), (300, 300),
                                               (86400, 86400), (86401, 3600)])
def test_access_token_lifetime_bounds(app, seconds, expected):
    with app.app_context():
        assert access_token_seconds(Client(access_token_seconds=seconds)) == expected


@pytest.mark.parametrize("seconds, expected", [(None, 30 * 86400), (3599, 30 * 86400),
                                               (3600, 3600), (10 * 365 * 86400, 10 * 365 * 86400),
                                               (10 * 365 * 86400 + 1, 30 * 86400)])
def test_refresh_token_lifetime_bounds(app, seconds, expected):
    with app.app_context():
        assert refresh_token_seconds(Client(refresh_token_seconds=seconds)) == expected


def test_token_scopes():
    client = Client(scopes=["openid", "email", "api:read"], grant_types=[])
    assert token_scopes(client, "authorization_code", "email openid junk") == ["email", "openid"]
    assert token_scopes(client, "client_credentials", None) == ["api:read"]
    assert token_scopes(client, "client_credentials", "openid api:read") == ["api:read"]


CALLS = []


def add_claims_trigger(event):
    """A real pre_token_generation trigger (configured by its import path)."""
    CALLS.append(event["client_id"])
    return {"claims_to_add_or_override": {"favourite": "tea", "sub": "someone-else"},
            "groups_override": ["vip"]}


def refuse_trigger(event):
    return {"abort": "Not today."}


def test_claims_hook_runs_once_per_token_response(app_with, client):
    app = app_with(trigger_pre_token_generation="tests.oauth.test_tokens:add_claims_trigger")
    user = add_user(app)
    flow = Flow(app, app.test_client(), user)
    oauth_client = add_client(app, is_first_party=True)
    CALLS.clear()
    tokens = flow.tokens(oauth_client)
    assert CALLS == [oauth_client["client_id"]]
    _, id_claims = verify_jwt(flow.client, tokens["id_token"])
    _, access = verify_jwt(flow.client, tokens["access_token"])
    for claims in (id_claims, access):
        assert claims["sub"] == user["id"]  # protected
        assert claims["favourite"] == "tea" and claims["groups"] == ["vip"]


def test_claims_hook_rejection_is_invalid_grant(app_with):
    app = app_with(trigger_pre_token_generation="tests.oauth.test_tokens:refuse_trigger")
    flow = Flow(app, app.test_client(), add_user(app))
    oauth_client = add_client(app, is_first_party=True)
    req = flow.request(oauth_client)
    response = flow.token(oauth_client, req.token_form(flow.code(req)))
    assert response.status_code == 400
    assert response.get_json() == {"error": "invalid_grant", "error_description": "Not today."}


def test_protected_claims_survive_the_hook(app):
    """apply_claims_hook restores protected claims whatever the hook does."""
    access = _claims()
    with app.app_context():
        apply_claims_hook(None, "c1", ["openid"], None, access)
    assert access == _claims(iat=access["iat"], exp=access["exp"])
