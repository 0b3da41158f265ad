"""Helpers every hosted view uses: rendering with the theme, the interaction of the page,
the request's origin for the rules, and 303 redirects."""

from __future__ import annotations

from flask import Response, current_app, g, redirect, request
from flask.signals import before_render_template, template_rendered
from flask_babel import get_translations, refresh

from app.accounts.origin import Origin
from app.hosted.i18n import bound_gettext
from app.hosted.theming import theme_environment, use_theme
from app.oauth.interaction import Interaction, load_interaction


class InteractionGone(Exception):  # noqa: N818 - a state, not a failure of ours
    """The page was given an interaction id that is unknown, expired or another browser's."""


def page_interaction() -> Interaction | None:
    """The interaction named by ?interaction= (or the form's hidden field), loaded once.
    Sets the client's theme and ui_locales for the page; raises InteractionGone."""
    if "fd_interaction" in g:
        return g.fd_interaction
    interaction_id = request.args.get("interaction") or request.form.get("interaction")
    interaction = load_interaction(interaction_id) if interaction_id else None
    g.fd_interaction = interaction
    if interaction_id and interaction is None:
        raise InteractionGone()
    if interaction is not None:
        use_theme(interaction.client_theme)  # parked with the request: no client read
        g.fd_ui_locales = list(interaction.ui_locales or [])
        refresh()  # the language may change with ui_locales
    return interaction


def loaded_interaction() -> Interaction | None:
    """The interaction page_interaction() loaded for this request (no store read)."""
    return g.get("fd_interaction")


def interaction_id() -> str | None:
    interaction = loaded_interaction()
    return interaction.id if interaction else None


def client_ip() -> str | None:
    return request.remote_addr


def origin() -> Origin:
    interaction = loaded_interaction()
    return Origin(ip=client_ip(), client_id=interaction.client_id if interaction else None)


def see_other(url: str) -> Response:
    return redirect(url, code=303)


def render_page(template_name: str, http_status: int = 200, **context) -> Response:
    """Render a page with the current theme's environment (the app's one by default)."""
    app = current_app._get_current_object()
    env = g.get("fd_jinja_env") or theme_environment(None)
    context.setdefault("interaction", g.get("fd_interaction"))
    app.update_template_context(context)
    context.update(bound_gettext(get_translations()))
    template = env.get_or_select_template(template_name)
    before_render_template.send(app, _async_wrapper=app.ensure_sync, template=template,
                                context=context)
    body = template.render(context)
    template_rendered.send(app, _async_wrapper=app.ensure_sync, template=template,
                           context=context)
    return Response(body, status=http_status, mimetype="text/html")
