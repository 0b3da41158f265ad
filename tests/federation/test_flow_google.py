"""Google through FRONTDESK_GOOGLE_DISCOVERY_URL, played by a second, real Frontdesk server
process: client registered and user created with its CLI, its hosted login driven over HTTP
like a browser would (GET the page, read csrf_token, POST the form)."""

from __future__ import annotations

import json
import re
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from app.extensions import db
from app.models import FederatedIdentity, User
from tests.conftest import make_app
from tests.federation.flows import begin_authorization, exchange_code, follow_to_app
from tests.live import TEST_DATABASE_URL, drop_database, start_server

MAIN = "http://127.0.0.1:5000"
CALLBACK = MAIN + "/federation/google/callback"
JANE = ("jane@example.com", "jane's long password")
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture(scope="module")
def google(tmp_path_factory):
    """The upstream: a Frontdesk process with two registered clients and one user."""
    server = start_server(tmp_path_factory.mktemp("google"))
    try:
        clients = {}
        for name, extra in (("first-party", ["--first-party"]), ("asks-consent", [])):
            created = server.cli("clients", "create", "--name", f"Frontdesk RP {name}",
                                 "--redirect-uri", CALLBACK, *extra, "--json")
            clients[name] = json.loads(created.stdout)
        server.cli("users", "create", "--email", JANE[0], "--password", JANE[1], "--verified",
                   "--json")
        server.extra["clients"] = clients
        yield server
    finally:
        server.stop()
        if TEST_DATABASE_URL:
            drop_database(server.env["FRONTDESK_DATABASE_URL"])


@pytest.fixture
def make_main(tmp_path, postgres_schema, google):
    """The Frontdesk under test (Flask test app) with Google pointed at the upstream, and a
    first-party app registered on it; returns (app, rp client dict)."""
    from app.oauth.clients import create_client

    apps = []

    def build(client="first-party", **settings):
        registered = google.extra["clients"][client]
        app = make_app(tmp_path / f"main{len(apps)}", postgres_schema,
                       google_client_id=registered["client_id"],
                       google_client_secret=registered["client_secret"],
                       google_discovery_url=google.url + "/.well-known/openid-configuration",
                       **settings)
        apps.append(app)
        with app.app_context():
            new = create_client(name="Demo App", redirect_uris=["http://127.0.0.1:9999/cb"],
                                is_first_party=True)
            db.session.commit()
            rp = {"client_id": new.client.client_id, "client_secret": new.client_secret,
                  "redirect_uri": "http://127.0.0.1:9999/cb"}
        return app, rp

    yield build
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _csrf(html: str) -> str:
    return CSRF_RE.search(html).group(1)


def upstream_login(browser: requests.Session, url: str, *, consent: str | None = None,
                   credentials=JANE) -> str:
    """Play the user at the upstream from its authorization URL until it redirects back to
    the main Frontdesk; returns that callback URL."""
    response = browser.get(url, allow_redirects=False)
    for _ in range(10):
        location = urljoin(response.url, response.headers.get("Location", ""))
        if location.startswith(MAIN):
            return location
        path = urlsplit(location).path
        if path == "/login":
            page = browser.get(location)
            response = browser.post(location, allow_redirects=False, data={
                "email": credentials[0], "password": credentials[1],
                "csrf_token": _csrf(page.text),
                "interaction": dict(p.split("=", 1) for p in
                                    urlsplit(location).query.split("&"))["interaction"]})
        elif path == "/consent":
            page = browser.get(location)
            interaction = re.search(r'name="interaction"[^>]*value="([^"]+)"', page.text)
            response = browser.post(location, allow_redirects=False, data={
                "csrf_token": _csrf(page.text), "interaction": interaction.group(1),
                "decision": consent})
        else:
            response = browser.get(location, allow_redirects=False)
        assert response.status_code in (302, 303), (response.status_code, response.text[:500])
    raise AssertionError("the upstream never sent the browser back")


def google_round_trip(client, interaction: str, **options):
    start = client.get(f"/federation/google/start?interaction={interaction}")
    assert start.status_code == 303, start.get_data(as_text=True)[:300]
    back = upstream_login(requests.Session(), start.location, **options)
    parts = urlsplit(back)
    return client.get(f"{parts.path}?{parts.query}")


def test_login_through_google_gives_frontdesk_tokens(make_main, google):
    main_app, rp_client = make_main()
    client = main_app.test_client()
    req, ix = begin_authorization(client, rp_client)
    start = client.get(f"/federation/google/start?interaction={ix}")
    assert start.location.startswith(google.url + "/oauth2/authorize?")
    assert "code_challenge_method=S256" in start.location and "nonce=" in start.location

    params = follow_to_app(client, google_round_trip(client, ix), req.redirect_uri)
    tokens, claims = exchange_code(client, rp_client, req, params["code"])
    assert claims["iss"] == MAIN and claims["amr"] == ["fed"]
    assert claims["email"] == JANE[0] and claims["email_verified"] is True
    with main_app.app_context():
        [user] = db.session.scalars(db.select(User))
        [identity] = db.session.scalars(db.select(FederatedIdentity))
        assert user.id == claims["sub"] and user.password_hash is None
        assert (identity.provider, identity.user_id) == ("google", user.id)
    userinfo = client.get("/oauth2/userinfo",
                          headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert userinfo.get_json()["sub"] == claims["sub"]


def test_untrusted_google_never_links_by_email(make_main):
    from app.accounts.users import create_user
    from app.extensions import frontdesk_state

    app, rp = make_main(google_trust_email=False)
    with app.app_context():
        create_user(frontdesk_state(app).settings, email=JANE[0], password="victim's password",
                    verified=True)
        db.session.commit()
    client = app.test_client()
    _, ix = begin_authorization(client, rp)
    response = google_round_trip(client, ix)
    assert response.status_code == 303 and response.location.startswith("/federation/link")
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(FederatedIdentity)) == 0


def test_denied_consent_upstream_comes_back_to_login(make_main):
    app, rp = make_main(client="asks-consent")
    client = app.test_client()
    _, ix = begin_authorization(client, rp)
    response = google_round_trip(client, ix, consent="deny")
    assert response.status_code == 303 and response.location == f"/login?interaction={ix}"
    page = client.get(response.location).get_data(as_text=True)
    assert "Sign-in with Google was cancelled" in page
    assert "Continue with Google" in page
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 0
