"""The built-in demo app: a relying party inside the server, for the quick start.

/demo runs the authorization code flow with PKCE against Frontdesk itself, the way any
application would: it talks to the protocol endpoints over HTTP on the issuer URL and
checks the ID token against the published JWKS. Enabled by settings.demo_enabled (on by
default, off by default in production).
"""

from __future__ import annotations

import hashlib
import hmac

from flask import Flask

from app.config import Settings

DEMO_CLIENT_ID = "frontdesk-demo"


def demo_client_secret(settings: Settings) -> str:
    """Derived from the secret key, so every process knows it without storing it."""
    return hmac.new(settings.secret_key.encode(), b"frontdesk-demo-client",
                    hashlib.sha256).hexdigest()


def demo_redirect_uri(settings: Settings) -> str:
    return settings.issuer + "/demo/callback"


def demo_post_logout_uri(settings: Settings) -> str:
    return settings.issuer + "/demo/"


def init_app(app: Flask) -> None:
    """Register /demo when FRONTDESK_DEMO_ENABLED."""
    from app.demo.views import bp
    from app.extensions import settings

    if settings(app).demo_enabled:
        app.register_blueprint(bp)
