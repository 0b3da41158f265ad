"""Upstream identity providers: Google, Apple, generic OIDC; account linking."""


def init_app(app) -> None:
    """Register the federation endpoints for the configured providers."""
