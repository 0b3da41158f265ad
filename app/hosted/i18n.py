"""Language of the pages and mails: the switcher's choice, then the client's ui_locales
(OIDC Core §3.1.2.1), then Accept-Language; English by default."""

from __future__ import annotations

from flask import g, has_request_context, request, session, url_for
from jinja2 import pass_context
from markupsafe import Markup

LANGUAGES = {"en": "English", "de": "Deutsch", "es": "Español"}
DEFAULT_LANGUAGE = "en"
SESSION_KEY = "fd_lang"
KEPT_ON_POST = ("interaction", "flow", "verify")


def match_language(tag: str | None) -> str | None:
    """`de-CH` -> `de`; None when we have no catalog for it."""
    if not tag:
        return None
    primary = tag.strip().replace("_", "-").split("-")[0].lower()
    return primary if primary in LANGUAGES else None


def select_locale() -> str:
    """Flask-Babel's locale selector."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    chosen = match_language(request.args.get("lang")) or match_language(session.get(SESSION_KEY))
    if chosen:
        return chosen
    for tag in g.get("fd_ui_locales") or ():
        if match_language(tag):
            return match_language(tag)
    return request.accept_languages.best_match(list(LANGUAGES)) or DEFAULT_LANGUAGE


def remember_language_choice() -> None:
    """A `?lang=` link from the switcher sticks for the rest of the browser session."""
    chosen = match_language(request.args.get("lang"))
    if chosen and session.get(SESSION_KEY) != chosen:
        session[SESSION_KEY] = chosen


def language_links(current: str) -> list[dict]:
    """The switcher: the current page in each language (GET links; no JavaScript)."""
    if request.endpoint is None or request.method != "GET":
        # a re-rendered form: keep what identifies the flow, never the posted values
        args = {k: request.values[k] for k in KEPT_ON_POST if request.values.get(k)}
        endpoint = request.endpoint if request.endpoint else "hosted.login"
    else:
        args = {k: v for k, v in request.args.items() if k != "lang"}
        endpoint = request.endpoint
    # url_for() appends `lang` last, so one built URL serves every language
    base = url_for(endpoint, **(dict(request.view_args or {}) | args))
    joiner = "&" if "?" in base else "?"
    return [{"code": code, "label": label, "current": code == current,
             "url": f"{base}{joiner}lang={code}"} for code, label in LANGUAGES.items()]


def bound_gettext(translations) -> dict:
    """Jinja's newstyle `gettext`/`ngettext` (as jinja2.ext installs them: autoescaped, always
    %-formatted) bound to one page's catalog. Given to a page's context they replace the
    ones Flask-Babel installs, which look the catalog up again for every string."""

    @pass_context
    def gettext(__context, __string: str, **variables):
        text = translations.ugettext(__string)
        if __context.eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704 - as jinja2.ext: the catalog is ours
        return text % variables

    @pass_context
    def ngettext(__context, __singular: str, __plural: str, __num: int, **variables):
        variables.setdefault("num", __num)
        text = translations.ungettext(__singular, __plural, __num)
        if __context.eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704 - as jinja2.ext: the catalog is ours
        return text % variables

    return {"gettext": gettext, "ngettext": ngettext}
