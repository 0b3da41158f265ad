"""Upstream ID token validation (OIDC Core §3.1.3.7) against keys served by a real local
upstream: signature through its JWKS, iss, aud/azp, exp, iat, nonce, algorithms."""

from __future__ import annotations

import time

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

from app.federation.oidc import (
    Metadata,
    UpstreamCache,
    UpstreamError,
    check_id_token_claims,
    decode_id_token,
    parse_discovery,
)
from app.federation.providers import Provider

NONCE = "n-0S6_WzA2Mj"


@pytest.fixture
def upstream(apple_upstream):
    provider = Provider(name="acme", kind="oidc", label="Acme", client_id="fd-client",
                        issuer=apple_upstream.url, jwks_uri=apple_upstream.url + "/auth/keys",
                        authorization_endpoint=apple_upstream.url + "/auth/authorize",
                        token_endpoint=apple_upstream.url + "/auth/token")
    cache = UpstreamCache(ttl_seconds=3600, timeout_seconds=5)
    return apple_upstream, provider, cache


def _claims(issuer, **overrides):
    now = int(time.time())
    claims = {"iss": issuer, "sub": "u-1", "aud": "fd-client", "exp": now + 300, "iat": now,
              "nonce": NONCE}
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _sign(key, claims, alg="RS256", kid="apple-1"):
    return jwt.encode({"alg": alg, "kid": kid}, claims, key, algorithms=[alg])


def _validate(upstream, token, nonce=NONCE):
    server, provider, cache = upstream
    metadata = cache.metadata(provider)
    claims = decode_id_token(cache, provider, metadata, token)
    check_id_token_claims(claims, issuers=[server.url], client_id=provider.client_id,
                          nonce=nonce)
    return claims


def test_valid_token_passes(upstream):
    server = upstream[0]
    assert _validate(upstream, _sign(server.signing_key, _claims(server.url)))["sub"] == "u-1"


def test_audience_list_with_azp(upstream):
    server = upstream[0]
    token = _sign(server.signing_key, _claims(server.url, aud=["fd-client", "other"],
                                              azp="fd-client"))
    assert _validate(upstream, token)["azp"] == "fd-client"


@pytest.mark.parametrize("overrides, detail", [
    ({"aud": "someone-else"}, "aud"),
    ({"aud": ["fd-client", "other"]}, "azp"),
    ({"aud": ["fd-client", "other"], "azp": "other"}, "azp"),
    ({"iss": "https://evil.example"}, "iss"),
    ({"exp": int(time.time()) - 3600}, "exp"),
    ({"iat": int(time.time()) + 3600}, "iat"),
    ({"nonce": "another-nonce"}, "nonce"),
    ({"nonce": None}, "nonce"),
    ({"sub": None}, "sub"),
    ({"exp": None}, "exp"),
])
def test_bad_claims_are_refused(upstream, overrides, detail):
    server = upstream[0]
    with pytest.raises(UpstreamError) as caught:
        _validate(upstream, _sign(server.signing_key, _claims(server.url, **overrides)))
    assert caught.value.reason == "id_token_invalid_claims"
    assert detail in caught.value.detail


def test_signature_by_a_key_outside_the_jwks_is_refused(upstream):
    server = upstream[0]
    token = _sign(server.other_key, _claims(server.url))  # same kid, different key
    with pytest.raises(UpstreamError) as caught:
        _validate(upstream, token)
    assert caught.value.reason == "id_token_bad_signature"


def test_tampered_payload_is_refused(upstream):
    server = upstream[0]
    header, payload, signature = _sign(server.signing_key, _claims(server.url)).split(".")
    forged = _sign(server.signing_key, _claims(server.url, sub="admin")).split(".")[1]
    with pytest.raises(UpstreamError, match="bad_signature"):
        _validate(upstream, f"{header}.{forged}.{signature}")


def test_symmetric_and_none_algorithms_are_refused(upstream):
    server = upstream[0]
    hs = jwt.encode({"alg": "HS256"}, _claims(server.url), OctKey.import_key("s" * 32),
                    algorithms=["HS256"])
    with pytest.raises(UpstreamError):
        _validate(upstream, hs)
    import base64
    import json

    def b64(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    with pytest.raises(UpstreamError):
        _validate(upstream, f"{b64({'alg': 'none'})}.{b64(_claims(server.url))}.")


def test_garbage_is_refused(upstream):
    with pytest.raises(UpstreamError):
        _validate(upstream, "not-a-jwt")


def test_rotated_upstream_key_is_fetched_once_more(upstream):
    server, provider, cache = upstream
    cache.key_set(provider)  # cached before the rotation
    server.signing_key = RSAKey.generate_key(2048, parameters={"kid": "apple-2"})
    token = _sign(server.signing_key, _claims(server.url), kid="apple-2")
    assert _validate(upstream, token)["sub"] == "u-1"


def test_unreachable_upstream_is_an_upstream_error(upstream):
    _, provider, cache = upstream
    dead = Provider(name="dead", kind="oidc", label="Dead", client_id="x",
                    jwks_uri="http://127.0.0.1:9/keys")
    with pytest.raises(UpstreamError) as caught:
        cache.key_set(dead)
    assert caught.value.reason == "upstream_unreachable"


def test_discovery_document_is_checked():
    document = {"issuer": "https://id.test", "authorization_endpoint": "https://id.test/a",
                "token_endpoint": "https://id.test/t", "jwks_uri": "https://id.test/k",
                "userinfo_endpoint": "https://id.test/u",
                "id_token_signing_alg_values_supported": ["HS256", "RS256", "ES256"]}
    metadata = parse_discovery(document)
    assert metadata == Metadata(issuer="https://id.test",
                                authorization_endpoint="https://id.test/a",
                                token_endpoint="https://id.test/t", jwks_uri="https://id.test/k",
                                userinfo_endpoint="https://id.test/u",
                                algorithms=("RS256", "ES256"))
    with pytest.raises(UpstreamError, match="jwks_uri"):
        parse_discovery({**document, "jwks_uri": None})
    with pytest.raises(UpstreamError, match="asymmetric"):
        parse_discovery({**document, "id_token_signing_alg_values_supported": ["HS256"]})
