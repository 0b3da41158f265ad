"""Admin REST API under /admin/api/v1, authorized by client-credentials tokens."""


def init_app(app) -> None:
    """Register the admin API."""
