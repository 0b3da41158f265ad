"""/_theme/preview: every page and mail with sample data, under a chosen theme and client,
so a designer sees a theme without walking the flows (settings.theme_preview_enabled)."""

from __future__ import annotations

from flask import Response, abort, request, url_for

from app.extensions import db, frontdesk_state
from app.hosted.blueprint import bp
from app.hosted.pages import render_page
from app.hosted.preview_samples import MAILS, PAGES, sample_mail_context
from app.hosted.theming import available_themes, use_theme
from app.mail import render_mail
from app.models import Client

MAIL_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; " \
           "frame-ancestors 'none'"


def _enabled() -> None:
    if not frontdesk_state().settings.theme_preview_enabled:
        abort(404)


def _chosen() -> tuple[str | None, Client | None]:
    """The theme and client picked on the index page (a client brings its theme)."""
    client_id = request.args.get("client") or None
    client = db.session.get(Client, client_id) if client_id else None
    theme = request.args.get("theme") or (client.theme if client else None)
    use_theme(theme)
    return theme, client


def _selection() -> dict:
    return {k: v for k, v in (("theme", request.args.get("theme")),
                              ("client", request.args.get("client"))) if v}


@bp.get("/_theme/preview")
def theme_preview():
    _enabled()
    theme, client = _chosen()
    clients = db.session.scalars(db.select(Client).order_by(Client.name)).all()
    chosen = _selection()
    return render_page(
        "preview/index.html", themes=available_themes(frontdesk_state().settings),
        clients=[{"id": c.client_id, "name": c.name, "theme": c.theme} for c in clients],
        chosen_theme=theme or "", chosen_client=client.client_id if client else "",
        pages=[{"name": n, "title": p.title,
                "url": url_for("hosted.theme_preview_page", name=n, **chosen)}
               for n, p in PAGES.items()],
        mails=[{"name": n, "title": title,
                "html_url": url_for("hosted.theme_preview_mail", name=n, **chosen),
                "text_url": url_for("hosted.theme_preview_mail", name=n, part="text", **chosen)}
               for n, title in MAILS.items()])


@bp.get("/_theme/preview/page/<name>")
def theme_preview_page(name: str):
    _enabled()
    sample = PAGES.get(name) or abort(404)
    _, client = _chosen()
    return render_page(sample.template, sample.status, **sample.context(client))


@bp.get("/_theme/preview/mail/<name>")
def theme_preview_mail(name: str):
    _enabled()
    if name not in MAILS:
        abort(404)
    _chosen()
    mail = render_mail(name, **sample_mail_context(frontdesk_state().settings))
    if request.args.get("part") == "text":
        return Response(f"Subject: {mail.subject}\n\n{mail.text}", mimetype="text/plain")
    response = Response(mail.html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = MAIL_CSP
    return response
