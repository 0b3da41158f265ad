"""The OAuth 2.0 / OpenID Connect protocol engine (built on Authlib)."""

from __future__ import annotations

import logging

from flask import Flask

JSON_POST_VIEWS = ("token", "userinfo", "revoke", "introspect")


def init_app(app: Flask) -> None:
    """Bind the authorization server and register the protocol endpoints."""
    from app.extensions import csrf
    from app.oauth import views
    from app.oauth.server import init_server

    init_server(app)
    # Authlib logs whole token responses at DEBUG ("Issue token {...}"): never let them out.
    logging.getLogger("authlib").setLevel(max(logging.INFO, logging.getLogger(
        "authlib").getEffectiveLevel()))
    app.register_blueprint(views.bp)
    # JSON endpoints authenticate clients or bearer tokens, never cookies: no CSRF. The
    # authorization request may be POSTed by the client's site (OIDC Core §3.1.2.1); the
    # logout endpoint checks its own confirmation form's token (app.oauth.logout).
    for name in (*JSON_POST_VIEWS, "authorize", "end_session"):
        csrf.exempt(f"{views.__name__}.{name}")
