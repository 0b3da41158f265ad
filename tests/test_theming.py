"""Themes: the example theme per deployment and per client; loader order; mail templates."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.extensions import db, frontdesk_state
from app.hosted.theming import client_theme_dir
from app.oauth.clients import create_client
from tests.conftest import Outbox
from tests.hosted.helpers import custom_apps, login, post_form, start_authorization, text

EXAMPLE = Path(__file__).resolve().parent.parent / "themes" / "example"
NOTE = 'id="fd-example-theme-note"'


@pytest.fixture
def custom_app(tmp_path, postgres_schema):
    yield from custom_apps(tmp_path, postgres_schema)


def themed_client(app, theme: str) -> dict:
    with app.app_context():
        new = create_client(name="Themed App", redirect_uris=["http://127.0.0.1:9999/cb"],
                            is_first_party=True)
        new.client.theme = theme
        db.session.commit()
        return {"client_id": new.client.client_id, "redirect_uri": "http://127.0.0.1:9999/cb"}


def test_default_pages_are_unthemed(client):
    body = text(client.get("/login"))
    assert NOTE not in body and "/_theme/assets/" not in body
    assert '/static/frontdesk.css' in body and "fd-wordmark" in body


def test_example_theme_for_the_whole_deployment(custom_app):
    app = custom_app(theme_dir=str(EXAMPLE))
    client = app.test_client()
    body = text(client.get("/login"))
    assert NOTE in body  # the overridden block
    assert '<link rel="stylesheet" href="/_theme/assets/_site/theme.css">' in body
    assert 'src="/_theme/assets/_site/logo.svg"' in body
    assert "<title>Sign in" in body and 'name="csrf_token"' in body  # the rest is default
    with client.get("/_theme/assets/_site/logo.svg") as logo:
        assert logo.status_code == 200 and b"Example Corp" in logo.data
    assert NOTE in text(client.get("/nowhere"))  # error pages too


def test_example_theme_for_one_client(app, client, user):
    themed = themed_client(app, "example")
    _, interaction, location = start_authorization(client, themed)
    body = text(client.get(location))
    assert NOTE in body and "/_theme/assets/example/theme.css" in body
    assert 'src="/_theme/assets/example/logo.svg"' in body
    assert NOTE not in text(client.get("/login"))  # other pages keep the default
    forgot = text(client.get(f"/password/forgot?interaction={interaction}"))
    assert NOTE in forgot  # the flow keeps the client's theme
    assert login(client, user["email"], user["password"], interaction).status_code == 303


def test_client_theme_under_theme_dir_and_loader_order(custom_app, tmp_path):
    theme_dir = tmp_path / "site-theme"
    (theme_dir / "templates" / "hosted").mkdir(parents=True)
    (theme_dir / "clients" / "acme" / "templates" / "hosted").mkdir(parents=True)
    (theme_dir / "templates" / "hosted" / "mfa.html").write_text("SITE MFA PAGE")
    (theme_dir / "clients" / "acme" / "templates" / "hosted" / "mfa.html").write_text("ACME MFA")
    (theme_dir / "clients" / "acme" / "templates" / "hosted" / "login.html").write_text(
        '{% extends "default/hosted/login.html" %}{% block title %}ACME sign-in{% endblock %}')
    app = custom_app(theme_dir=str(theme_dir))
    client = app.test_client()
    themed = themed_client(app, "acme")
    _, interaction, location = start_authorization(client, themed)
    body = text(client.get(location))
    assert "<title>ACME sign-in" in body and 'name="password"' in body
    assert "<title>Sign in" in text(client.get("/login"))
    # THEME_DIR/templates comes before the client's theme (DESIGN.md loader order)
    with app.test_request_context():
        from app.hosted.theming import theme_environment
        assert theme_environment("acme").get_template("hosted/mfa.html").render() == \
            "SITE MFA PAGE"


def test_theme_shadows_mail_templates(custom_app, tmp_path):
    theme_dir = tmp_path / "mail-theme"
    (theme_dir / "templates" / "mail").mkdir(parents=True)
    (theme_dir / "templates" / "mail" / "verify_email.txt").write_text(
        "{% set subject %}ACME code {{ code }}{% endset %}Your ACME code: {{ code }}\n")
    app = custom_app(theme_dir=str(theme_dir))
    post_form(app.test_client(), "/signup", {"email": "m@example.com",
                                             "password": "a decent passphrase", "name": "M"})
    outbox = Outbox(frontdesk_state(app).settings.mail_outbox)
    message = outbox.last()
    assert message["Subject"].startswith("ACME code ")
    assert outbox.text(message).startswith("Your ACME code: ")
    assert "Confirm your e-mail address" in outbox.html(message)  # html part still default


def test_unknown_or_unsafe_theme_names_fall_back_to_default(app, client):
    themed = themed_client(app, "does-not-exist")
    _, _, location = start_authorization(client, themed)
    assert NOTE not in text(client.get(location))
    settings = frontdesk_state(app).settings
    for name in ("../example", "..", "", None, "a/b"):
        assert client_theme_dir(settings, name) is None
    assert client_theme_dir(settings, "example") == EXAMPLE
