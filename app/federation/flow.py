"""The upstream round trip: start (state, nonce, PKCE) and callback (check, exchange, validate).

The pending login lives in the store under its `state` (single use, 10 minutes), bound to
the browser by a hash of a random value kept in the session. The store, not the cookie, is
what makes Apple's form_post work: that POST arrives cross-site, so the SameSite=Lax session
cookie is missing. The POST only parks the response on the pending login and answers 303 to
a same-site GET of the callback, which has the cookie again and does the real work.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

from flask import session, url_for

from app.extensions import frontdesk_state
from app.federation import apple, oauth2
from app.federation.linking import UpstreamIdentity, upstream_email
from app.federation.oidc import (
    UpstreamCache,
    UpstreamError,
    accepted_issuers,
    check_id_token_claims,
    decode_id_token,
    exchange_code,
    fetch_userinfo,
    oauth_client,
)
from app.federation.providers import Provider

STATE_PREFIX = "fed:state:"
STATE_TTL_SECONDS = 600
BROWSER_KEY = "fed_browser"
RESPONSE_FIELDS = ("code", "state", "error", "error_description", "user", "iss")
MAX_FIELD_LENGTH = 4096


class FlowError(Exception):
    """The callback does not belong to a login this browser started (or it expired)."""


@dataclass
class PendingLogin:
    state: str
    provider: str
    nonce: str
    code_verifier: str
    redirect_uri: str
    browser: str
    interaction_id: str | None = None
    client_id: str | None = None
    response: dict[str, str] | None = None  # a form_post response, parked by the POST
    created_at: float = field(default_factory=time.time)


def upstream_cache() -> UpstreamCache:
    return frontdesk_state().extras["federation"].cache


def _http_timeout() -> int:
    return frontdesk_state().settings.federation_http_timeout_seconds


def browser_hash() -> str:
    key = session.get(BROWSER_KEY)
    if not key:
        key = session[BROWSER_KEY] = secrets.token_urlsafe(24)
    return hashlib.sha256(key.encode()).hexdigest()


def callback_url(provider: Provider) -> str:
    """The redirect_uri registered at the upstream: issuer origin + our callback path."""
    issuer = urlsplit(frontdesk_state().settings.issuer)
    path = url_for("federation.callback", provider=provider.name)
    return f"{issuer.scheme}://{issuer.netloc}{path}"


def begin_login(provider: Provider, interaction_id: str | None = None,
                client_id: str | None = None) -> str:
    """Park a pending login and return the upstream authorization URL to redirect to."""
    metadata = upstream_cache().metadata(provider)
    pending = PendingLogin(
        state=secrets.token_urlsafe(32), provider=provider.name,
        nonce=secrets.token_urlsafe(32), code_verifier=secrets.token_urlsafe(48),
        redirect_uri=callback_url(provider), browser=browser_hash(),
        interaction_id=interaction_id, client_id=client_id)
    extra: dict[str, str] = {}
    if provider.response_mode:
        extra["response_mode"] = provider.response_mode
    if provider.kind != "oauth2":  # a plain OAuth 2.0 upstream has no ID token to bind
        extra["nonce"] = pending.nonce
    with oauth_client(provider, pending.redirect_uri, _http_timeout()) as client:
        url, _ = client.create_authorization_url(
            metadata.authorization_endpoint, state=pending.state,
            code_verifier=pending.code_verifier, **extra)
    _save(pending)
    return url


def _save(pending: PendingLogin) -> None:
    remaining = STATE_TTL_SECONDS - (time.time() - pending.created_at)
    frontdesk_state().store.set_json(STATE_PREFIX + pending.state, asdict(pending),
                                     max(1, int(remaining)))


def _load(state: str | None, pop: bool) -> PendingLogin | None:
    if not state or len(state) > 128:
        return None
    store = frontdesk_state().store
    data = (store.pop_json if pop else store.get_json)(STATE_PREFIX + state)
    return PendingLogin(**data) if data else None


def park_form_post(provider: Provider, form: dict[str, str]) -> str | None:
    """Keep a form_post response on its pending login; returns the state, or None when no
    pending login of this provider has that state (the browser is checked at the GET)."""
    pending = _load(form.get("state"), pop=False)
    if pending is None or pending.provider != provider.name or pending.response is not None:
        return None
    pending.response = {k: form[k][:MAX_FIELD_LENGTH] for k in RESPONSE_FIELDS if form.get(k)}
    _save(pending)
    return pending.state


def take_pending(provider: Provider, state: str | None) -> PendingLogin:
    """The pending login for this callback, used up; FlowError unless this browser began it."""
    pending = _load(state, pop=True)
    if pending is None or pending.provider != provider.name:
        raise FlowError("unknown or expired state")
    if not hmac.compare_digest(pending.browser, browser_hash()):
        raise FlowError("state of another browser")
    if provider.uses_form_post and pending.response is None:
        raise FlowError("form_post response missing")
    return pending


def authenticate(provider: Provider, pending: PendingLogin,
                 params: dict[str, str]) -> UpstreamIdentity:
    """Exchange the code and validate the upstream ID token (OIDC Core §3.1.3.7)."""
    if params.get("error"):
        raise UpstreamError("upstream_" + params["error"][:64], params.get("error_description", ""))
    if not params.get("code"):
        raise UpstreamError("upstream_no_code")
    cache, timeout = upstream_cache(), _http_timeout()
    if provider.kind == "oauth2":
        return oauth2.authenticate(provider, code=params["code"],
                                   code_verifier=pending.code_verifier,
                                   redirect_uri=pending.redirect_uri, timeout=timeout)
    metadata = cache.metadata(provider)
    if params.get("iss") and params["iss"] != metadata.issuer:  # RFC 9207 §2.4: mix-up
        raise UpstreamError("upstream_issuer_mismatch", params["iss"][:200])
    token = exchange_code(provider, metadata, code=params["code"],
                          code_verifier=pending.code_verifier,
                          redirect_uri=pending.redirect_uri, timeout=timeout)
    claims = decode_id_token(cache, provider, metadata, token["id_token"])
    check_id_token_claims(claims, issuers=accepted_issuers(provider, metadata),
                          client_id=provider.client_id, nonce=pending.nonce)
    if provider.kind == "apple":
        claims = apple.normalize_claims(claims, apple.parse_user_field(params.get("user")))
    elif "email" not in claims:
        extra = fetch_userinfo(metadata, token.get("access_token", ""), claims["sub"], timeout)
        claims = {**extra, **claims}
    return identity_from_claims(provider, claims)


def identity_from_claims(provider: Provider, claims: dict[str, Any]) -> UpstreamIdentity:
    if len(claims["sub"]) > 255:  # OIDC Core §2: at most 255 ASCII characters
        raise UpstreamError("id_token_invalid_claims", "sub too long")
    return UpstreamIdentity(
        provider=provider.name, subject=claims["sub"],
        email=upstream_email(claims), email_verified=apple.as_bool(claims.get("email_verified")),
        claims=claims)
