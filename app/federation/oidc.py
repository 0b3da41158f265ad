"""Talking to an OpenID Connect upstream: metadata, JWKS, code exchange, ID token checks.

Google and the generic upstreams are read from their discovery document; Apple's endpoints
are configured statically. Discovery documents and JWKS are cached per process for
FEDERATION_METADATA_SECONDS; an ID token signed with an unknown `kid` refetches the JWKS once
(the upstream rotated its keys). Every request goes through upstream_http.fetch.
"""

from __future__ import annotations

import hmac
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from app.federation.providers import Provider
from app.federation.token import exchange_code as token_exchange
from app.federation.upstream_http import UpstreamError, fetch

ASYMMETRIC_ALGS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
                   "ES256", "ES384", "ES512", "EdDSA")
LEEWAY_SECONDS = 60
GOOGLE_ISSUER = "https://accounts.google.com"


@dataclass(frozen=True)
class Metadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str = ""
    algorithms: tuple[str, ...] = ("RS256",)


@dataclass
class UpstreamCache:
    """Per-process cache of discovery documents and key sets."""

    ttl_seconds: int
    timeout_seconds: int
    _entries: dict[str, tuple[float, Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _get(self, key: str) -> Any:
        with self._lock:
            entry = self._entries.get(key)
        return entry[1] if entry and entry[0] > time.monotonic() else None

    def _put(self, key: str, value: Any) -> Any:
        with self._lock:
            self._entries[key] = (time.monotonic() + self.ttl_seconds, value)
        return value

    def get_json(self, url: str) -> dict[str, Any]:
        """GET a JSON object from the upstream (no redirects, bounded time)."""
        answer = fetch("GET", url, timeout=self.timeout_seconds)
        if not answer.ok:
            raise UpstreamError("upstream_unreachable", f"{url}: HTTP {answer.status}")
        data = answer.json()
        if not isinstance(data, dict):
            raise UpstreamError("upstream_bad_response", f"{url} did not return an object")
        return data

    def metadata(self, provider: Provider) -> Metadata:
        if not provider.discovery_url:
            return Metadata(issuer=provider.issuer,
                            authorization_endpoint=provider.authorization_endpoint,
                            token_endpoint=provider.token_endpoint, jwks_uri=provider.jwks_uri)
        cached = self._get("meta:" + provider.name)
        if cached is not None:
            return cached
        return self._put("meta:" + provider.name,
                         parse_discovery(self.get_json(provider.discovery_url)))

    def key_set(self, provider: Provider, refresh: bool = False) -> KeySet:
        cache_key = "jwks:" + provider.name
        cached = None if refresh else self._get(cache_key)
        if cached is not None:
            return cached
        data = self.get_json(self.metadata(provider).jwks_uri)
        try:
            keys = KeySet.import_key_set(data)
        except (JoseError, ValueError, KeyError, TypeError):
            raise UpstreamError("upstream_bad_jwks", "JWKS could not be read") from None
        return self._put(cache_key, keys)


def parse_discovery(document: dict[str, Any]) -> Metadata:
    """OIDC Discovery §3: the fields the login flow needs."""
    required = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
    missing = [k for k in required if not isinstance(document.get(k), str) or not document[k]]
    if missing:
        raise UpstreamError("upstream_bad_discovery", "missing " + ", ".join(missing))
    offered = document.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = tuple(a for a in offered if a in ASYMMETRIC_ALGS)
    if not algorithms:
        raise UpstreamError("upstream_bad_discovery", "no asymmetric ID token algorithm")
    userinfo = document.get("userinfo_endpoint")
    return Metadata(issuer=document["issuer"],
                    authorization_endpoint=document["authorization_endpoint"],
                    token_endpoint=document["token_endpoint"], jwks_uri=document["jwks_uri"],
                    userinfo_endpoint=userinfo if isinstance(userinfo, str) else "",
                    algorithms=algorithms)


def accepted_issuers(provider: Provider, metadata: Metadata) -> list[str]:
    """Google documents both forms of its issuer in ID tokens."""
    if provider.kind == "google" and metadata.issuer == GOOGLE_ISSUER:
        return [GOOGLE_ISSUER, "accounts.google.com"]
    return [metadata.issuer]


def oauth_client(provider: Provider, redirect_uri: str, timeout: int) -> OAuth2Session:
    return OAuth2Session(
        client_id=provider.client_id, client_secret=provider.current_client_secret(),
        token_endpoint_auth_method=provider.token_endpoint_auth_method,
        scope=" ".join(provider.scopes), redirect_uri=redirect_uri,
        code_challenge_method="S256", default_timeout=timeout)


def exchange_code(provider: Provider, metadata: Metadata, *, code: str, code_verifier: str,
                  redirect_uri: str, timeout: int) -> dict[str, Any]:
    """The upstream's token response for an authorization code, with its ID token."""
    token = token_exchange(provider, metadata.token_endpoint, code=code,
                           code_verifier=code_verifier, redirect_uri=redirect_uri,
                           timeout=timeout)
    if not isinstance(token.get("id_token"), str):
        raise UpstreamError("upstream_no_id_token")
    return token


def decode_id_token(cache: UpstreamCache, provider: Provider, metadata: Metadata,
                    raw: str) -> dict[str, Any]:
    """Check the signature against the upstream JWKS, refetched once for an unknown kid."""
    try:
        try:
            token = jwt.decode(raw, cache.key_set(provider), algorithms=metadata.algorithms)
        except InvalidKeyIdError:
            token = jwt.decode(raw, cache.key_set(provider, refresh=True),
                               algorithms=metadata.algorithms)
    except JoseError as exc:
        raise UpstreamError("id_token_bad_signature", exc.__class__.__name__) from None
    except (ValueError, TypeError):
        raise UpstreamError("id_token_malformed") from None
    return token.claims


def check_id_token_claims(claims: dict[str, Any], *, issuers: list[str], client_id: str,
                          nonce: str, now: int | None = None) -> None:
    """OIDC Core §3.1.3.7: iss, aud (and azp), exp, iat, sub and the nonce we sent."""
    registry = jwt.JWTClaimsRegistry(
        now=int(time.time()) if now is None else now, leeway=LEEWAY_SECONDS,
        iss={"essential": True, "values": issuers}, sub={"essential": True},
        aud={"essential": True, "value": client_id}, exp={"essential": True},
        iat={"essential": True})
    try:
        registry.validate(claims)
    except JoseError as exc:
        claim = getattr(exc, "claim", "")
        raise UpstreamError("id_token_invalid_claims", f"{claim}: {exc}") from None
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise UpstreamError("id_token_invalid_claims", "azp")
    sent = claims.get("nonce")
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), nonce.encode()):
        raise UpstreamError("id_token_invalid_claims", "nonce")


def fetch_userinfo(metadata: Metadata, access_token: str, subject: str,
                   timeout: int) -> dict[str, Any]:
    """OIDC Core §5.3: extra claims; discarded unless `sub` matches the ID token's."""
    if not metadata.userinfo_endpoint or not access_token:
        return {}
    try:
        answer = fetch("GET", metadata.userinfo_endpoint, timeout=timeout,
                       headers={"Authorization": f"Bearer {access_token}"})
        data = answer.json() if answer.ok else {}
    except UpstreamError:
        return {}
    if not isinstance(data, dict) or data.get("sub") != subject:
        return {}
    return data
