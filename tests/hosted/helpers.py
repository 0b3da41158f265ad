"""Driving the hosted pages like a browser: GET the page, read the CSRF token, POST."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

from app.extensions import db, frontdesk_state
from app.models import User
from tests.oauth.helpers import AuthorizationRequest

CSRF_RE = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')
CODE_RE = re.compile(r"\b(\d{6})\b")
SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def csrf_token(response) -> str:
    match = CSRF_RE.search(response.get_data(as_text=True))
    assert match, "no csrf_token input on the page"
    return unescape(match.group(1))


def post_form(client, url: str, data: dict, **kwargs):
    """GET `url`, then POST `data` with the page's CSRF token to the same URL."""
    page = client.get(url)
    assert page.status_code == 200, (url, page.status_code)
    return client.post(url, data={"csrf_token": csrf_token(page), **data}, **kwargs)


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def query(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def login(client, email: str, password: str, interaction: str | None = None):
    url = "/login" + (f"?interaction={interaction}" if interaction else "")
    data = {"email": email, "password": password}
    if interaction:
        data["interaction"] = interaction
    return post_form(client, url, data)


def start_authorization(client, oauth_client: dict, **params):
    """A real authorization request; returns (request, interaction id of the hosted page)."""
    req = AuthorizationRequest(oauth_client["client_id"], oauth_client["redirect_uri"])
    response = client.get(req.url(**params))
    assert response.status_code in (302, 303), response.status_code
    return req, query(response.location)["interaction"], response.location


def code_in(message_text: str) -> str:
    match = CODE_RE.search(message_text)
    assert match, message_text
    return match.group(1)


def signed_in_as(client) -> str | None:
    with client.session_transaction() as sess:
        return sess.get("uid")


def session_amr(client) -> list[str]:
    with client.session_transaction() as sess:
        return list(sess.get("amr") or [])


def get_user(app, email: str) -> User:
    with app.app_context():
        user = User.find_by_email(email)
        db.session.expunge_all()
        return user


def store(app):
    return frontdesk_state(app).store


def custom_apps(tmp_path, postgres_schema):
    """Generator behind the `custom_app` fixture: yields a factory of apps with their own
    settings and disposes them afterwards (no leaked connections in PostgreSQL mode)."""
    from tests.conftest import make_app

    made = []

    def factory(**overrides):
        app = make_app(tmp_path / f"custom{len(made)}", postgres_schema, **overrides)
        made.append(app)
        return app

    yield factory
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
