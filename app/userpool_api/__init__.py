"""The user-pool API (cognito-idp JSON 1.1) under <issuer>/cognito: another front door onto
app.accounts and the token issuer, for apps built on Amplify, boto3 or any AWS SDK."""

from __future__ import annotations

from flask import Flask

from app.extensions import csrf, frontdesk_state


def init_app(app: Flask) -> None:
    """Register the API (unless turned off). Requests authenticate by app client id,
    access token or SigV4, never by cookie: no CSRF."""
    if not frontdesk_state(app).settings.userpool_api_enabled:
        return
    from app.userpool_api import discovery  # noqa: F401  (routes)
    from app.userpool_api.protocol import bp

    csrf.exempt(bp)
    app.register_blueprint(bp)
