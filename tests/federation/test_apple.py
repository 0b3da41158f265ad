"""Sign in with Apple pieces: the ES256 client secret, the `user` field, Apple's claims."""

from __future__ import annotations

import json
import time

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from app.federation import apple
from tests.federation.apple_upstream import CLIENT_ID, KEY_ID, TEAM_ID


def _secret(key, lifetime=3600):
    return apple.AppleClientSecret(team_id=TEAM_ID, key_id=KEY_ID, client_id=CLIENT_ID,
                                   audience="https://appleid.apple.com", key=key,
                                   lifetime_seconds=lifetime)


def test_client_secret_is_an_es256_jwt_apple_accepts(apple_key):
    key, path = apple_key
    loaded = apple.load_private_key(str(path))
    now = int(time.time())
    token = jwt.decode(_secret(loaded).current(now), key, algorithms=["ES256"])
    assert (token.header["alg"], token.header["kid"]) == ("ES256", KEY_ID)
    assert token.claims == {"iss": TEAM_ID, "sub": CLIENT_ID, "aud": "https://appleid.apple.com",
                            "iat": now, "exp": now + 3600}


def test_client_secret_is_reused_then_renewed_before_it_expires(apple_key):
    secret = _secret(apple_key[0], lifetime=3600)
    now = 1_800_000_000
    first = secret.current(now)
    assert secret.current(now + 3000) == first  # 600 s left > margin of 360 s
    renewed = secret.current(now + 3600 - 300)  # 300 s left: inside the margin
    assert renewed != first
    claims = jwt.decode(renewed, apple_key[0], algorithms=["ES256"]).claims
    assert claims["exp"] == now + 3300 + 3600


def test_client_secret_verified_by_the_upstream_token_endpoint(apple_upstream, apple_key):
    """The local Apple really checks the JWT: a wrong team id or key is refused."""
    good = apple.make_client_secret(team_id=TEAM_ID, key_id=KEY_ID, client_id=CLIENT_ID,
                                    audience=apple_upstream.url, key=apple_key[0],
                                    issued_at=int(time.time()), lifetime_seconds=600)
    assert apple_upstream.check_client({"client_id": CLIENT_ID, "client_secret": good}) is None
    wrong_team = apple.make_client_secret(team_id="OTHER", key_id=KEY_ID, client_id=CLIENT_ID,
                                          audience=apple_upstream.url, key=apple_key[0],
                                          issued_at=int(time.time()), lifetime_seconds=600)
    assert "iss" in apple_upstream.check_client({"client_id": CLIENT_ID,
                                                 "client_secret": wrong_team})
    other_key = apple.make_client_secret(team_id=TEAM_ID, key_id=KEY_ID, client_id=CLIENT_ID,
                                         audience=apple_upstream.url,
                                         key=ECKey.generate_key("P-256"),
                                         issued_at=int(time.time()), lifetime_seconds=600)
    assert "signature" in apple_upstream.check_client({"client_id": CLIENT_ID,
                                                       "client_secret": other_key})
    expired = apple.make_client_secret(team_id=TEAM_ID, key_id=KEY_ID, client_id=CLIENT_ID,
                                       audience=apple_upstream.url, key=apple_key[0],
                                       issued_at=int(time.time()) - 7200, lifetime_seconds=600)
    assert "exp" in apple_upstream.check_client({"client_id": CLIENT_ID,
                                                 "client_secret": expired})


@pytest.mark.parametrize("content, message", [
    (None, "cannot read"),
    (b"not a key", "not an EC private key"),
    ("rsa", "not an EC private key"),
    ("p384", "P-256"),
    ("public", "P-256 private key"),
])
def test_unusable_p8_files_are_refused(tmp_path, content, message):
    path = tmp_path / "key.p8"
    if content == "rsa":
        content = RSAKey.generate_key(2048).as_pem(private=True)
    elif content == "p384":
        content = ECKey.generate_key("P-384").as_pem(private=True)
    elif content == "public":
        content = ECKey.generate_key("P-256").as_pem(private=False)
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(apple.AppleKeyError, match=message):
        apple.load_private_key(str(path))


def test_user_field_gives_the_name_only():
    raw = json.dumps({"name": {"firstName": " Jane ", "lastName": "Appleseed"},
                      "email": "attacker@example.com"})
    assert apple.parse_user_field(raw) == {"given_name": "Jane", "family_name": "Appleseed",
                                           "name": "Jane Appleseed"}


@pytest.mark.parametrize("raw", [None, "", "{", "[]", '{"name": "Jane"}', '{"email": "x@y.z"}',
                                 "x" * 5000])
def test_user_field_garbage_is_ignored(raw):
    assert apple.parse_user_field(raw) == {}


def test_claims_are_normalized_and_names_merged():
    claims = {"sub": "s", "email": "abc@privaterelay.appleid.com", "email_verified": "true",
              "name": "From Token"}
    result = apple.normalize_claims(claims, {"name": "From Field", "given_name": "Jane"})
    assert result["email_verified"] is True
    assert result["is_private_email"] is True
    assert result["name"] == "From Token"  # the signed token wins over the unsigned field
    assert result["given_name"] == "Jane"
    assert apple.normalize_claims({"email_verified": "false"}, {})["email_verified"] is False
    assert apple.normalize_claims({"email_verified": True, "email": "a@b.co"},
                                  {})["email_verified"] is True
