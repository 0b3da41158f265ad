"""SAML 2.0 identity providers through pysaml2: our SP configuration, the AuthnRequest out
(HTTP-Redirect) and the checks on the Response that comes back (HTTP-POST).

pysaml2 parses with defusedxml (no external entities, no entity expansion) and checks the
XML signatures with xmlsec1, the Destination, the InResponseTo against the one request the
caller names, NotBefore / NotOnOrAfter with the configured skew and the audience when one
is given. On top of it this module insists on what pysaml2 leaves optional: a signature on
the response or on the assertion (not with SHA-1), an AudienceRestriction naming us, a bearer
SubjectConfirmation whose Recipient is our ACS URL, and a NotOnOrAfter to bound the replay
cache. The IdP metadata is read through the one upstream fetcher, kept for
FEDERATION_METADATA_SECONDS, and read again at once when a response is signed with a
certificate it does not list (the IdP rotated its key), at most once a minute.
"""

from __future__ import annotations

import calendar
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string
from saml2.sigver import SignatureError, SigverError
from saml2.time_util import str_to_time
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from app.federation.linking import UpstreamIdentity, upstream_email
from app.federation.providers import Provider
from app.federation.upstream_http import UpstreamError, fetch

BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
EMAIL_FORMAT = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
REFRESH_AT_MOST_EVERY_SECONDS = 60
MAX_SUBJECT_LENGTH = 255
WEAK_SUFFIXES = ("sha1", "md5")


@dataclass(frozen=True)
class SpEndpoints:
    """Where the IdP reaches us for one provider (absolute URLs)."""

    entity_id: str
    acs_url: str


@dataclass(frozen=True)
class Accepted:
    """A response that passed every check: who it is, and what the replay cache keeps."""

    identity: UpstreamIdentity
    assertion_id: str
    not_on_or_after: int  # epoch seconds


@dataclass
class SamlClients:
    """Per-process pysaml2 clients, one per provider, rebuilt when their metadata ages."""

    key_file: str
    cert_file: str
    xmlsec_binary: str
    skew_seconds: int
    ttl_seconds: int
    timeout_seconds: int
    _entries: dict[str, tuple[float, Saml2Client]] = field(default_factory=dict)
    _forced: dict[str, float] = field(default_factory=dict)  # last refresh on a bad signature
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def get(self, provider: Provider, sp: SpEndpoints, refresh: bool = False) -> Saml2Client:
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(provider.name)
            if entry and refresh:
                last = self._forced.get(provider.name)
                if last is not None and last + REFRESH_AT_MOST_EVERY_SECONDS > now:
                    return entry[1]
                self._forced[provider.name] = now
            elif entry and entry[0] + self.ttl_seconds > now:
                return entry[1]
        client = Saml2Client(config=self.sp_config(provider, sp, self.metadata_xml(provider)))
        with self._lock:
            self._entries[provider.name] = (now, client)
        return client

    def metadata_xml(self, provider: Provider) -> str:
        idp = provider.saml
        if idp.metadata_file:
            try:
                return Path(idp.metadata_file).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise UpstreamError("saml_bad_metadata", exc.__class__.__name__) from None
        answer = fetch("GET", idp.metadata_url, timeout=self.timeout_seconds,
                       headers={"Accept": "application/samlmetadata+xml, application/xml"})
        if not answer.ok:
            raise UpstreamError("upstream_unreachable", f"metadata: HTTP {answer.status}")
        return answer.body.decode("utf-8", errors="replace")

    def sp_config(self, provider: Provider, sp: SpEndpoints, metadata_xml: str = "") -> SPConfig:
        idp = provider.saml
        service: dict[str, Any] = {
            "endpoints": {"assertion_consumer_service": [(sp.acs_url, BINDING_HTTP_POST)]},
            "allow_unsolicited": idp.idp_initiated,
            "authn_requests_signed": True,
            "want_response_signed": False,
            "want_assertions_signed": False,
            "want_assertions_or_response_signed": True,
        }
        if idp.name_id_format:
            service["name_id_format"] = [idp.name_id_format]
        conf = {
            "entityid": sp.entity_id,
            "service": {"sp": service},
            "key_file": self.key_file, "cert_file": self.cert_file,
            "xmlsec_binary": self.xmlsec_binary,
            "accepted_time_diff": self.skew_seconds,
            "allow_unknown_attributes": True,
            "metadata": {"inline": [metadata_xml]} if metadata_xml else {},
        }
        config = SPConfig()
        try:
            config.load(conf)
        except Exception as exc:  # noqa: BLE001 - pysaml2 raises bare Exceptions on bad metadata
            raise UpstreamError("saml_bad_metadata", exc.__class__.__name__) from None
        return config


def xmlsec_binary(configured: str) -> str:
    return configured or shutil.which("xmlsec1") or ""


def sp_metadata(clients: SamlClients, provider: Provider, sp: SpEndpoints) -> str:
    """Our SP metadata: entity id, ACS (HTTP-POST) and the signing certificate."""
    data = create_metadata_string(None, config=clients.sp_config(provider, sp), valid=24 * 7)
    return data.decode() if isinstance(data, bytes) else data


def _idp_entity_id(client: Saml2Client, provider: Provider) -> str:
    if provider.saml.idp_entity_id:
        return provider.saml.idp_entity_id
    idps = list(client.metadata.with_descriptor("idpsso"))
    if len(idps) != 1:
        raise UpstreamError("saml_bad_metadata", f"{len(idps)} IdPs; set idp_entity_id")
    return idps[0]


def authn_request(clients: SamlClients, provider: Provider, sp: SpEndpoints,
                  request_id: str) -> tuple[str, str]:
    """(request id, URL of the IdP's SSO endpoint carrying the signed AuthnRequest); the
    request id goes back and forth as RelayState too."""
    client = clients.get(provider, sp)
    try:
        request_id, info = client.prepare_for_authenticate(
            entityid=_idp_entity_id(client, provider), relay_state=request_id,
            binding=BINDING_HTTP_REDIRECT, message_id=request_id, sigalg=SIG_RSA_SHA256,
            digest_alg=DIGEST_SHA256)
    except UpstreamError:
        raise
    except Exception as exc:  # noqa: BLE001 - e.g. no HTTP-Redirect SSO endpoint
        raise UpstreamError("saml_bad_metadata", exc.__class__.__name__) from None
    location = dict(info["headers"])["Location"]
    return request_id, location


def read_response(clients: SamlClients, provider: Provider, sp: SpEndpoints,
                  saml_response: str, request_id: str | None) -> Accepted:
    """The identity in a POSTed SAMLResponse answering `request_id` (None: unsolicited,
    only when the provider allows IdP-initiated login); UpstreamError when not accepted."""
    outstanding = {request_id: "/"} if request_id else {}
    try:
        response = _parse(clients.get(provider, sp), saml_response, outstanding)
    except (SignatureError, SigverError):
        response = _parse(clients.get(provider, sp, refresh=True), saml_response, outstanding,
                          final=True)
    check_response(response, sp, request_id)
    return Accepted(identity=identity_of(provider, response),
                    assertion_id=response.assertion.id,
                    not_on_or_after=_epoch(response.assertion.conditions.not_on_or_after))


def _parse(client: Saml2Client, saml_response: str, outstanding: dict, final: bool = False):
    try:
        response = client.parse_authn_request_response(saml_response, BINDING_HTTP_POST,
                                                       outstanding=outstanding)
    except (SignatureError, SigverError):
        if final:
            raise UpstreamError("saml_bad_signature") from None
        raise
    except Exception as exc:  # noqa: BLE001 - pysaml2 refuses with many (and bare) Exceptions
        raise UpstreamError("saml_refused", f"{exc.__class__.__name__}: {exc}"[:300]) from None
    if response is None or response.assertion is None:
        raise UpstreamError("saml_refused", "no valid assertion")
    return response


def check_response(response, sp: SpEndpoints, request_id: str | None) -> None:
    """What pysaml2 accepts but we do not: no signature, no audience, wrong recipient."""
    assertion = response.assertion
    signatures = [sig for sig in (response.response.signature, assertion.signature) if sig]
    if not signatures:
        raise UpstreamError("saml_unsigned")
    if any(weak_algorithms(sig) for sig in signatures):
        raise UpstreamError("saml_weak_signature", ", ".join(
            alg for sig in signatures for alg in weak_algorithms(sig))[:200])
    conditions = assertion.conditions
    audiences = [a.text.strip() for r in (conditions.audience_restriction if conditions else [])
                 for a in r.audience if a.text]
    if sp.entity_id not in audiences:
        raise UpstreamError("saml_wrong_audience", ", ".join(audiences)[:200])
    if conditions is None or not conditions.not_on_or_after:
        raise UpstreamError("saml_refused", "assertion without NotOnOrAfter")
    bearer = [c.subject_confirmation_data for c in assertion.subject.subject_confirmation
              if c.method == BEARER and c.subject_confirmation_data is not None]
    if not bearer or any(d.recipient != sp.acs_url for d in bearer):
        raise UpstreamError("saml_wrong_recipient")
    if request_id and any(d.in_response_to != request_id for d in bearer):
        raise UpstreamError("saml_refused", "InResponseTo")


def weak_algorithms(signature) -> list[str]:
    """The SHA-1 / MD5 signature and digest methods of an XML signature (collisions make
    them forgeable); SAML IdPs sign with SHA-256 by default."""
    info = signature.signed_info
    used = [info.signature_method.algorithm if info.signature_method else ""]
    used += [ref.digest_method.algorithm for ref in info.reference if ref.digest_method]
    return [alg for alg in used if not alg or alg.endswith(WEAK_SUFFIXES)]


def identity_of(provider: Provider, response) -> UpstreamIdentity:
    """NameID as the subject, attributes as claims (one value: a string, more: a list)."""
    name_id = response.name_id
    subject = (name_id.text or "").strip() if name_id is not None else ""
    if not subject or len(subject) > MAX_SUBJECT_LENGTH:
        raise UpstreamError("saml_refused", "no usable NameID")
    claims: dict[str, Any] = {k: v[0] if len(v) == 1 else list(v)
                              for k, v in (response.ava or {}).items() if v}
    email = next((claims[a] for a in provider.saml.email_attributes
                  if isinstance(claims.get(a), str)), None)
    if email is None and name_id.format == EMAIL_FORMAT:
        email = subject
    claims.update(sub=subject, email=email)
    return UpstreamIdentity(provider=provider.name, subject=subject,
                            email=upstream_email(claims), email_verified=provider.trust_email,
                            claims=claims)


def _epoch(saml_time: str) -> int:
    return calendar.timegm(str_to_time(saml_time))
