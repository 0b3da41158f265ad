"""/consent: the client's name and logo, the scopes in plain words, Allow / Deny."""

from __future__ import annotations

from flask import request, url_for

from app.extensions import db
from app.hosted.blueprint import bp
from app.hosted.forms import ConsentForm
from app.hosted.messages import scope_description
from app.hosted.pages import (
    InteractionGone,
    interaction_id,
    page_interaction,
    render_page,
    see_other,
)
from app.models import User
from app.oauth.interaction import ConsentResult, Denial, conclude
from app.sessions import current_login


@bp.route("/consent", methods=["GET", "POST"])
def consent():
    interaction = page_interaction()
    if interaction is None:
        raise InteractionGone()
    login = current_login()
    if login is None:
        return see_other(url_for("hosted.login", interaction=interaction.id))
    form = ConsentForm(interaction=interaction.id)
    if form.validate_on_submit():
        outcome = ConsentResult(scopes=list(interaction.scopes)) \
            if request.form.get("decision") == "allow" \
            else Denial("access_denied", "The user denied the request.")
        response = conclude(interaction.id, outcome, loaded=interaction)
        if response is None:
            raise InteractionGone()
        return response
    user = db.session.get(User, login.user_id)
    scopes = [{"name": s, "text": scope_description(s)} for s in interaction.scopes]
    return render_page("hosted/consent.html", form=form, scopes=scopes,
                       client_name=interaction.client_name,
                       client_logo_url=_safe_logo(interaction.client_logo_url),
                       email=user.email if user else "", interaction_id=interaction_id())


def _safe_logo(url: str | None) -> str | None:
    """Only https (or our own) images: the page's CSP allows nothing else anyway."""
    if url and (url.startswith("https://") or url.startswith("/")) and not url.startswith("//"):
        return url
    return None
