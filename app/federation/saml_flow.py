"""The SAML round trip: the AuthnRequest parked under its request id, the POSTed response
rejoined with the browser that started it, and the replay cache of assertion ids.

The IdP's HTTP-POST arrives cross-site, without the SameSite=Lax session cookie, so the POST
only parks the SAMLResponse on the pending login named by RelayState (our request id) and
answers 303 to a same-site GET of the ACS, which has the cookie and does the checks: the
pending login is used up, must belong to this browser, and the response must answer that
request (InResponseTo). An accepted assertion's id stays in the store until its
NotOnOrAfter (plus the skew), so the same assertion is never accepted twice.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import asdict, dataclass, field
from urllib.parse import urlsplit

from flask import url_for

from app.extensions import frontdesk_state
from app.federation import saml
from app.federation.flow import FlowError, browser_hash
from app.federation.providers import Provider
from app.federation.saml import Accepted, SamlClients, SpEndpoints
from app.federation.upstream_http import UpstreamError

PENDING_PREFIX = "fed:saml:"
SEEN_PREFIX = "fed:saml-seen:"
PENDING_TTL_SECONDS = 600
MAX_RESPONSE_LENGTH = 256 * 1024
MAX_KEY_LENGTH = 128


@dataclass
class PendingSaml:
    key: str  # our AuthnRequest id, sent back as RelayState; random for IdP-initiated
    provider: str
    request_id: str | None  # None: an IdP-initiated response, bound to no request
    browser: str | None  # None: IdP-initiated, not started by any browser
    interaction_id: str | None = None
    client_id: str | None = None
    response: str | None = None
    created_at: float = field(default_factory=time.time)


def clients() -> SamlClients:
    return frontdesk_state().extras["federation"].saml


def _origin() -> str:
    issuer = urlsplit(frontdesk_state().settings.issuer)
    return f"{issuer.scheme}://{issuer.netloc}"


def sp_endpoints(provider: Provider) -> SpEndpoints:
    origin = _origin()
    entity_id = provider.saml.entity_id or \
        origin + url_for("federation.saml_metadata", provider=provider.name)
    return SpEndpoints(entity_id=entity_id,
                       acs_url=origin + url_for("federation.saml_acs", provider=provider.name))


def begin_login(provider: Provider, interaction_id: str | None,
                client_id: str | None) -> str:
    """Park the pending login under a fresh request id; the IdP URL to redirect to."""
    request_id = "_" + secrets.token_hex(20)
    request_id, url = saml.authn_request(clients(), provider, sp_endpoints(provider),
                                         request_id)
    _save(PendingSaml(key=request_id, provider=provider.name, request_id=request_id,
                      browser=browser_hash(), interaction_id=interaction_id,
                      client_id=client_id))
    return url


def _save(pending: PendingSaml) -> None:
    remaining = PENDING_TTL_SECONDS - (time.time() - pending.created_at)
    frontdesk_state().store.set_json(PENDING_PREFIX + pending.key, asdict(pending),
                                     max(1, int(remaining)))


def _load(key: str | None, pop: bool) -> PendingSaml | None:
    if not key or len(key) > MAX_KEY_LENGTH:
        return None
    store = frontdesk_state().store
    data = (store.pop_json if pop else store.get_json)(PENDING_PREFIX + key)
    return PendingSaml(**data) if data else None


def park_post(provider: Provider, saml_response: str | None,
              relay_state: str | None) -> str | None:
    """Keep a POSTed response on its pending login; the key to rejoin it with, or None
    when it answers no login of this provider (and IdP-initiated login is off)."""
    if not saml_response or len(saml_response) > MAX_RESPONSE_LENGTH:
        return None
    pending = _load(relay_state, pop=False)
    if pending is None:
        if not provider.saml.idp_initiated:
            return None
        pending = PendingSaml(key=secrets.token_urlsafe(32), provider=provider.name,
                              request_id=None, browser=None)
    elif pending.provider != provider.name or pending.response is not None:
        return None
    pending.response = saml_response
    _save(pending)
    return pending.key


def take_pending(provider: Provider, key: str | None) -> PendingSaml:
    """The parked response for this GET, used up; FlowError unless this browser began it."""
    pending = _load(key, pop=True)
    if pending is None or pending.provider != provider.name or pending.response is None:
        raise FlowError("unknown or expired SAML login")
    if pending.browser is not None and \
            not hmac.compare_digest(pending.browser, browser_hash()):
        raise FlowError("SAML login of another browser")
    return pending


def accept(provider: Provider, pending: PendingSaml) -> Accepted:
    """The checked response, its assertion remembered; UpstreamError when refused."""
    accepted = saml.read_response(clients(), provider, sp_endpoints(provider),
                                  pending.response, pending.request_id)
    if not remember_assertion(provider, accepted.assertion_id, accepted.not_on_or_after):
        raise UpstreamError("saml_replayed", accepted.assertion_id[:80])
    return accepted


def remember_assertion(provider: Provider, assertion_id: str, not_on_or_after: int) -> bool:
    """True the first time an assertion id is seen, until its NotOnOrAfter (plus skew)."""
    state = frontdesk_state()
    digest = hashlib.sha256(assertion_id.encode()).hexdigest()
    ttl = not_on_or_after - time.time() + state.settings.saml_clock_skew_seconds
    return state.store.add(f"{SEEN_PREFIX}{provider.name}:{digest}", "1", max(1.0, ttl))


def sp_metadata(provider: Provider) -> str:
    return saml.sp_metadata(clients(), provider, sp_endpoints(provider))
