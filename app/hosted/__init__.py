"""The hosted UI: login, sign-up, MFA, recovery, consent, logout, account pages.

One module per flow (login, signup, mfa, password, consent, logout, account) registers its
routes on the `hosted` blueprint; the rules live in app/accounts.
"""

from __future__ import annotations

from flask import Flask
from flask_wtf.csrf import CSRFError

from app import mail
from app.extensions import frontdesk_state


def _csrf_failed(exc: CSRFError):
    from flask_babel import gettext as _

    from app.errors import error_response

    return error_response(400, "csrf_failed", _(
        "This form has expired or was not sent from this site. Go back, reload the page and "
        "try again."))


def init_app(app: Flask) -> None:
    """Register the hosted pages, the theme loader, the mailer and the page headers."""
    from app.hosted import (  # noqa: F401  (each module registers its routes)
        account,
        assets,
        consent,
        login,
        logout,
        mfa,
        passkeys,
        password,
        preview,
        signup,
    )
    from app.hosted.blueprint import bp
    from app.hosted.context import install_page_context
    from app.hosted.headers import install_headers
    from app.hosted.theming import install_theming

    mail.init_app(app)
    install_theming(app, frontdesk_state(app).settings)
    install_headers(app)
    install_page_context(app)
    passkeys.install_passkeys(app)
    # Referrer-Policy: no-referrer means browsers send no Referer, which Flask-WTF's strict
    # HTTPS check demands; the per-session CSRF token and SameSite=Lax cookies remain.
    app.config["WTF_CSRF_SSL_STRICT"] = False
    app.register_error_handler(CSRFError, _csrf_failed)
    app.register_blueprint(bp)
