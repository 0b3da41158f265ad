"""The OAuth 2.0 / OpenID Connect protocol engine (built on Authlib)."""


def init_app(app) -> None:
    """Bind the authorization server and register the protocol endpoints."""
