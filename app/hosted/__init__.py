"""The hosted UI: login, sign-up, MFA, recovery, consent, logout, account pages."""


def init_app(app) -> None:
    """Register the hosted pages."""
