"""Upstream identity providers: Google, Apple, generic OIDC; account linking."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask

from app.extensions import csrf, frontdesk_state
from app.federation.login import pop_notice
from app.federation.oidc import UpstreamCache
from app.federation.providers import Provider, load_providers
from app.federation.routes import bp

# The one CSRF exemption of federation: Apple's form_post arrives from Apple's site and is
# checked through its single-use `state` instead (flow.park_form_post).
CSRF_EXEMPT_VIEWS = ("app.federation.routes.callback_form_post",)


@dataclass
class FederationState:
    """Parsed provider settings and this process's caches of upstream metadata."""

    providers: dict[str, Provider]
    cache: UpstreamCache


def init_app(app: Flask) -> None:
    """Parse the provider settings (a bad one stops the start), register the endpoints and
    give the login page the notice of a failed federated login (federation/notice.html).
    The provider buttons are the login page's own (app/hosted reads `providers`)."""
    state = frontdesk_state(app)
    settings = state.settings
    state.extras["federation"] = FederationState(
        providers=load_providers(settings),
        cache=UpstreamCache(ttl_seconds=settings.federation_metadata_seconds,
                            timeout_seconds=settings.federation_http_timeout_seconds))
    app.register_blueprint(bp)
    for view in CSRF_EXEMPT_VIEWS:
        csrf.exempt(view)
    app.context_processor(_template_helpers)


def _template_helpers() -> dict:
    return {"federation_notice": pop_notice}
