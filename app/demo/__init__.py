"""The built-in demo app: a relying party inside the server, for the quick start."""

from __future__ import annotations

import hashlib
import hmac

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


def init_app(app) -> None:
    """Register /demo when FRONTDESK_DEMO_ENABLED."""
