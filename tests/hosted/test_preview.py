"""/_theme/preview: every page and mail with sample data."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.hosted.preview_samples import MAILS, PAGES
from app.oauth.clients import create_client
from tests.hosted.helpers import text


def test_index_lists_every_page_and_mail(client):
    body = text(client.get("/_theme/preview"))
    for name in PAGES:
        assert f"/_theme/preview/page/{name}" in body
    for name in MAILS:
        assert f"/_theme/preview/mail/{name}" in body
    assert '<option value="example">' in body


@pytest.mark.parametrize("name", sorted(PAGES))
def test_each_page_renders(client, name):
    response = client.get(f"/_theme/preview/page/{name}?theme=example")
    assert response.status_code == PAGES[name].status
    assert "/_theme/assets/example/theme.css" in text(response)


@pytest.mark.parametrize("name", sorted(MAILS))
def test_each_mail_renders(client, name):
    html = client.get(f"/_theme/preview/mail/{name}")
    assert html.status_code == 200 and html.mimetype == "text/html"
    assert "unsafe-inline" in html.headers["Content-Security-Policy"]
    plain = client.get(f"/_theme/preview/mail/{name}?part=text")
    assert plain.mimetype == "text/plain" and text(plain).startswith("Subject: ")


def test_client_brings_its_theme_and_name(app, client):
    with app.app_context():
        new = create_client(name="Branded App", redirect_uris=["http://127.0.0.1:9999/cb"])
        new.client.theme = "example"
        db.session.commit()
        client_id = new.client.client_id
    body = text(client.get(f"/_theme/preview/page/consent?client={client_id}"))
    assert "Branded App wants to access" in body
    assert "/_theme/assets/example/theme.css" in body


def test_preview_can_be_disabled(custom_app):
    app = custom_app(theme_preview_enabled=False)
    client = app.test_client()
    assert client.get("/_theme/preview").status_code == 404
    assert client.get("/_theme/preview/page/login").status_code == 404
    assert client.get("/_theme/preview/mail/verify_email").status_code == 404
