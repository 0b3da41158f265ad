"""Upstream identity providers: Google, Apple, generic OIDC, plain OAuth 2.0 (Facebook,
GitHub), SAML 2.0; account linking."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask

from app.config import ConfigError, Settings
from app.extensions import csrf, frontdesk_state
from app.federation.login import pop_notice
from app.federation.oidc import UpstreamCache
from app.federation.providers import Provider, load_providers
from app.federation.routes import bp
from app.federation.saml import SamlClients, xmlsec_binary
from app.federation.saml_keys import sp_key_pair

# The CSRF exemptions of federation: Apple's form_post and a SAML IdP's HTTP-POST arrive
# from the upstream's site; each is checked through its single-use state or request id
# instead (flow.park_form_post, saml_flow.park_post).
CSRF_EXEMPT_VIEWS = ("app.federation.routes.callback_form_post",
                     "app.federation.routes.saml_acs_post")


@dataclass
class FederationState:
    """Parsed provider settings and this process's caches of upstream metadata."""

    providers: dict[str, Provider]
    cache: UpstreamCache
    saml: SamlClients | None = None


def init_app(app: Flask) -> None:
    """Parse the provider settings (a bad one stops the start), register the endpoints and
    give the login page the notice of a failed federated login (federation/notice.html).
    The provider buttons are the login page's own (app/hosted reads `providers`)."""
    state = frontdesk_state(app)
    settings = state.settings
    providers = load_providers(settings)
    state.extras["federation"] = FederationState(
        providers=providers,
        cache=UpstreamCache(ttl_seconds=settings.federation_metadata_seconds,
                            timeout_seconds=settings.federation_http_timeout_seconds),
        saml=_saml_clients(settings) if any(p.saml for p in providers.values()) else None)
    app.register_blueprint(bp)
    for view in CSRF_EXEMPT_VIEWS:
        csrf.exempt(view)
    app.context_processor(_template_helpers)


def _saml_clients(settings: Settings) -> SamlClients:
    binary = xmlsec_binary(settings.saml_xmlsec_binary)
    if not binary:
        raise ConfigError("SAML providers need the xmlsec1 program (Debian: apt-get install "
                          "xmlsec1) or FRONTDESK_SAML_XMLSEC_BINARY")
    key_file, cert_file = sp_key_pair(settings)
    return SamlClients(key_file=key_file, cert_file=cert_file, xmlsec_binary=binary,
                       skew_seconds=settings.saml_clock_skew_seconds,
                       ttl_seconds=settings.federation_metadata_seconds,
                       timeout_seconds=settings.federation_http_timeout_seconds)


def _template_helpers() -> dict:
    return {"federation_notice": pop_notice}
