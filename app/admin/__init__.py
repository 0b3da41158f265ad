"""Admin REST API under /admin/api/v1, authorized by client-credentials tokens.

init_app also sets up what the whole app needs from user pool management: the trigger
registry (frontdesk_state().triggers) with the custom-attribute claim source, after
checking the attribute declarations (a mistake stops the start-up, naming the setting).
"""

from __future__ import annotations

import functools

from flask import Flask

from app.accounts.attributes import add_attribute_claims, custom_attributes
from app.extensions import csrf, frontdesk_state
from app.triggers import init_triggers


def init_app(app: Flask) -> None:
    """Register the admin API and the trigger registry."""
    from app.admin import audit, clients, groups, users  # noqa: F401  (routes)
    from app.admin.blueprint import bp
    from app.admin.problems import install_problem_handlers

    settings = frontdesk_state(app).settings
    claimed = any(spec.claim for spec in custom_attributes(settings))
    init_triggers(app, [functools.partial(add_attribute_claims, settings)] if claimed else [])
    csrf.exempt(bp)
    app.register_blueprint(bp)
    install_problem_handlers(app)
