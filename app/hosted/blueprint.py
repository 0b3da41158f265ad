"""The `hosted` blueprint and what every hosted page shares: headers, the per-IP burst limit
on form posts, the language switch, the expired-interaction and 429 pages."""

from __future__ import annotations

from flask import Blueprint, Response, request
from werkzeug.exceptions import TooManyRequests

from app.accounts.throttle import ip_within_limit
from app.extensions import frontdesk_state
from app.hosted.headers import apply_page_headers
from app.hosted.i18n import remember_language_choice
from app.hosted.pages import InteractionGone, client_ip, render_page

bp = Blueprint("hosted", __name__)
RETRY_AFTER_SECONDS = 60


@bp.before_request
def _limit_and_language() -> None:
    if request.method == "POST":
        state = frontdesk_state()
        if not ip_within_limit(state.store, state.settings, client_ip()):
            raise TooManyRequests(retry_after=RETRY_AFTER_SECONDS)
    remember_language_choice()


@bp.after_request
def _page_headers(response: Response) -> Response:
    return apply_page_headers(response)


@bp.errorhandler(InteractionGone)
def _interaction_gone(exc: InteractionGone):
    return render_page("hosted/expired.html", http_status=400)


@bp.errorhandler(TooManyRequests)
def _too_many(exc: TooManyRequests):
    response = render_page("hosted/too_many.html", http_status=429)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
