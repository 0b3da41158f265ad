"""Signing and verifying with the key ring (app/oauth/signing.py)."""

from __future__ import annotations

from app.oauth.signing import decode_jwt, looks_like_jwt, sign_jwt


def test_sign_and_decode(app):
    with app.test_request_context():
        for alg in ("RS256", "ES256"):
            token = sign_jwt({"a": 1}, alg, "at+jwt")
            header, claims = decode_jwt(token)
            assert header["alg"] == alg and header["typ"] == "at+jwt" and header["kid"]
            assert claims == {"a": 1}


def test_decode_refuses_junk(app):
    with app.test_request_context():
        for junk in (None, "", "a.b", "a.b.c", "e30.e30.e30", "x" * 9000 + ".a.b", 42):
            assert decode_jwt(junk) is None
    assert looks_like_jwt("a.b.c") and not looks_like_jwt("abc")
