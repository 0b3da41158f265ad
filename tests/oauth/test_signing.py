"""Signing and verifying with the key ring (app/oauth/signing.py)."""

from __future__ import annotations

import base64
import json

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from joserfc import jwt
from joserfc.jwk import KeySet, OctKey

from app.extensions import frontdesk_state
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


def _parts(token: str) -> list[str]:
    return token.split(".")


def _segment(value: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def test_tokens_interoperate_with_joserfc(app):
    """What we sign, a generic JOSE library verifies against our JWKS, and the reverse."""
    with app.test_request_context():
        keyring = frontdesk_state().keyring
        jwks = KeySet.import_key_set(json.loads(keyring.jwks_bytes))
        for alg in ("RS256", "ES256"):
            ours = sign_jwt({"sub": "u", "n": "é"}, alg, "JWT")
            assert jwt.decode(ours, jwks, algorithms=[alg]).claims == {"sub": "u", "n": "é"}
            key = keyring.signing_key(alg)
            theirs = jwt.encode({"alg": alg, "kid": key.kid}, {"x": [1, 2]}, key)
            assert decode_jwt(theirs) == ({"typ": "JWT", "alg": alg, "kid": key.kid}, {"x": [1, 2]})


def test_decode_refuses_forgeries(app):
    with app.test_request_context():
        keyring = frontdesk_state().keyring
        rs_kid, es_kid = keyring.signing_key("RS256").kid, keyring.signing_key("ES256").kid
        good = sign_jwt({"sub": "u"}, "RS256")
        header, claims, signature = _parts(good)
        other = _parts(sign_jwt({"sub": "v"}, "RS256"))
        es = _parts(sign_jwt({"sub": "u"}, "ES256"))
        flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
        secret = KeySet.import_key_set(json.loads(keyring.jwks_bytes)).keys[0]
        hmac_token = jwt.encode({"alg": "HS256", "kid": rs_kid}, {"sub": "u"},
                                OctKey.import_key(secret.as_dict()["n"].encode()))
        forgeries = [
            f"{header}.{other[1]}.{signature}",  # claims swapped
            f"{header}.{claims}.{flipped}",  # signature altered
            f"{header}.{claims}.",  # signature stripped
            f"{_segment({'alg': 'none', 'kid': rs_kid})}.{claims}.x",
            f"{_segment({'alg': 'ES256', 'kid': rs_kid})}.{claims}.{es[2]}",  # alg vs key
            f"{_segment({'alg': 'RS256', 'kid': es_kid})}.{claims}.{signature}",
            f"{_segment({'alg': 'RS256', 'kid': 'unknown'})}.{claims}.{signature}",
            f"{_segment({'alg': 'RS256'})}.{claims}.{signature}",  # no kid
            hmac_token,  # HMAC keyed with the public modulus
            f"{header}.{claims}.{signature}=",  # not base64url
            f"{header} .{claims}.{signature}",
        ]
        for forged in forgeries:
            assert decode_jwt(forged) is None, forged


def _signed_raw(header: dict, payload: bytes) -> str:
    """A compact RS256 JWS over arbitrary bytes, signed with our current key."""
    key = frontdesk_state().keyring.signing_key("RS256")
    kid, private_key = key.kid, key.private_key
    encoded = base64.urlsafe_b64encode(payload).rstrip(b"=").decode()
    signing_input = f"{_segment(header | {'kid': kid})}.{encoded}".encode()
    signature = private_key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return signing_input.decode() + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()


def test_decode_refuses_crit_and_non_object_payloads(app):
    """RFC 7515 §4.1.11: a `crit` extension we do not understand makes the token invalid."""
    with app.test_request_context():
        assert decode_jwt(_signed_raw({"alg": "RS256"}, b'{"a":1}')) is not None  # the control
        assert decode_jwt(_signed_raw({"alg": "RS256", "crit": ["x"], "x": 1}, b'{"a":1}')) is None
        for header in ({"alg": "RS256", "crit": ["kid"]},
                       {"alg": "RS256", "b64": False, "crit": ["b64"]},
                       {"alg": "RS256", "jku": "https://attacker.example/jwks"},
                       {"alg": "RS256", "typ": "JWT", "cty": "JWT"}):
            assert decode_jwt(_signed_raw(header, b'{"a":1}')) is None, header
        assert decode_jwt(_signed_raw({"alg": "RS256"}, b"[1,2]")) is None
        assert decode_jwt(_signed_raw({"alg": "RS256"}, b"not json")) is None


def test_a_verified_token_is_remembered_with_the_key_ring_load(app):
    with app.test_request_context():
        ring = frontdesk_state().keyring
        token = sign_jwt({"a": 1, "list": [1]}, "RS256", "at+jwt")
        assert ring.verified_tokens() == {}
        header, claims = decode_jwt(token)
        assert token in ring.verified_tokens()
        claims["a"], claims["list"][0] = 2, 2  # what a caller does to its copy
        header["alg"] = "none"
        assert decode_jwt(token) == ({"alg": "RS256", "typ": "at+jwt", "kid": header["kid"]},
                                     {"a": 1, "list": [1]})
        assert decode_jwt(token[:-2] + "AA") is None  # refusals are not remembered
        assert len(ring.verified_tokens()) == 1
        ring.reload()  # a new load of the keys starts with nothing remembered
        assert ring.verified_tokens() == {}
        assert decode_jwt(token)[1] == {"a": 1, "list": [1]}


def test_a_key_withdrawn_at_reload_stops_verifying_remembered_tokens(app):
    from app.extensions import db
    from app.models import SigningKey

    with app.test_request_context():
        ring = frontdesk_state().keyring
        token = sign_jwt({"a": 1}, "ES256", "at+jwt")
        assert decode_jwt(token) is not None
        kid = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))["kid"]
        db.session.delete(db.session.get(SigningKey, kid))
        db.session.commit()
        ring.reload()
        assert decode_jwt(token) is None


def test_the_memo_is_bounded(app, monkeypatch):
    import app.oauth.signing as signing

    monkeypatch.setattr(signing, "VERIFIED_MEMO_SIZE", 3)
    with app.test_request_context():
        memo = frontdesk_state().keyring.verified_tokens()
        for n in range(7):
            assert decode_jwt(sign_jwt({"n": n}, "ES256", "JWT"))[1] == {"n": n}
            assert len(memo) <= 3
