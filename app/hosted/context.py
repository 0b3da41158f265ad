"""Values every page template can use (error pages rendered by app/errors.py included)."""

from __future__ import annotations

from flask import Flask, has_request_context
from flask_babel import get_locale
from flask_babel import gettext as _

from app.accounts.policy import required_classes
from app.extensions import frontdesk_state
from app.hosted.i18n import language_links
from app.hosted.theming import theme_assets


def password_hint() -> str:
    """The password policy in one sentence."""
    settings = frontdesk_state().settings
    hint = _("At least %(n)s characters, not a common password.",
             n=settings.password_min_length)
    names = {"lower": _("a lowercase letter"), "upper": _("an uppercase letter"),
             "digit": _("a digit"), "symbol": _("a symbol")}
    classes = [names[c] for c in required_classes(settings)]
    if classes:
        hint += " " + _("Include %(classes)s.", classes=", ".join(classes))
    return hint


def _page_defaults() -> dict:
    if not has_request_context():
        return {"password_hint": password_hint}
    locale = str(get_locale() or "en")
    return {"theme": theme_assets(), "page_lang": locale.replace("_", "-"),
            "languages": language_links(locale), "password_hint": password_hint}


def install_page_context(app: Flask) -> None:
    app.context_processor(_page_defaults)
