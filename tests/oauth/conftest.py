"""Fixtures of the protocol tests: the app with the hosted-page harness, clients, a flow
driver that walks the authorization code flow through the real interaction boundary."""

from __future__ import annotations

import pytest

from app.extensions import db, frontdesk_state
from app.oauth.clients import create_client
from tests.conftest import make_app
from tests.oauth.helpers import AuthorizationRequest, basic_auth, interaction_id, redirect_params
from tests.oauth.ui_harness import install_harness


def close_app(app) -> None:
    """Give back the app's database and Redis connections."""
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    close_store = getattr(frontdesk_state(app).store, "close", None)
    if close_store is not None:  # Redis: its connections and its mirror's thread
        close_store()


@pytest.fixture
def app(tmp_path, postgres_schema):
    app = make_app(tmp_path, postgres_schema)
    install_harness(app)
    yield app
    close_app(app)


@pytest.fixture
def app_with(tmp_path, postgres_schema):
    """Factory of apps with custom settings (and the harness); disposed after the test."""
    made = []

    def build(**overrides):
        custom = make_app(tmp_path / f"custom{len(made)}", postgres_schema, **overrides)
        install_harness(custom)
        made.append(custom)
        return custom

    yield build
    for custom in made:
        close_app(custom)


def add_user(app, email: str = "carol@example.com", **options) -> dict:
    """Create a verified user; returns id, email, password."""
    from app.accounts.users import create_user
    from tests.conftest import PASSWORD

    with app.app_context():
        created = create_user(frontdesk_state().settings, email=email, password=PASSWORD,
                              verified=True, **options)
        db.session.commit()
        return {"id": created.id, "email": created.email, "password": PASSWORD}


def add_client(app, **options) -> dict:
    """Register a client; returns id, secret and first redirect URI."""
    options.setdefault("name", "Some App")
    options.setdefault("redirect_uris", ["http://127.0.0.1:9999/cb"])
    with app.app_context():
        new = create_client(**options)
        db.session.commit()
        return {"client_id": new.client.client_id, "client_secret": new.client_secret,
                "redirect_uri": (options["redirect_uris"] or [None])[0]}


@pytest.fixture
def public_client(app):
    return add_client(app, name="SPA", redirect_uris=["http://127.0.0.1:8123/cb",
                                                     "https://spa.example.com/cb"],
                      is_public=True, is_first_party=True)


@pytest.fixture
def third_party_client(app):
    return add_client(app, name="Partner App", redirect_uris=["https://partner.example/cb"])


class Flow:
    """Walks authorization requests through authorize -> hosted page -> resume -> code."""

    def __init__(self, app, client, user):
        self.app, self.client, self.user = app, client, user

    def request(self, oauth_client: dict, **options) -> AuthorizationRequest:
        return AuthorizationRequest(oauth_client["client_id"], oauth_client["redirect_uri"],
                                    **options)

    def sign_in(self, amr: str = "pwd", auth_time: int | None = None) -> None:
        data = {"user_id": self.user["id"], "amr": amr}
        if auth_time is not None:
            data["auth_time"] = str(auth_time)
        response = self.client.post("/_harness/signin", data=data)
        assert response.status_code == 204

    def login_at(self, response, amr: str = "pwd", acr: str | None = None):
        """Answer a redirect to the hosted login page; returns the resume response."""
        assert "/login?" in response.location, response.location
        data = {"interaction": interaction_id(response), "user_id": self.user["id"],
                "amr": amr}
        if acr:
            data["acr"] = acr
        back = self.client.post("/_harness/login", data=data)
        assert back.status_code == 303, back.status_code
        return self.client.get(back.location)

    def consent_at(self, response, decision: str = "allow", scopes=None):
        assert "/consent?" in response.location, response.location
        data = {"interaction": interaction_id(response), "decision": decision}
        if scopes is not None:
            data["scope"] = scopes
        back = self.client.post("/_harness/consent", data=data)
        assert back.status_code == 303
        return self.client.get(back.location)

    def authorize(self, req: AuthorizationRequest, **overrides):
        """GET the authorization URL; log in if asked; returns the final response."""
        response = self.client.get(req.url(**overrides))
        if response.status_code == 303 and "/login?" in response.location:
            response = self.login_at(response)
        return response

    def code(self, req: AuthorizationRequest, **overrides) -> str:
        response = self.authorize(req, **overrides)
        assert response.status_code == 302, (response.status_code, response.location)
        params = redirect_params(response)
        assert "code" in params, params
        assert params["state"] == req.state
        return params["code"]

    def token(self, oauth_client: dict, form: dict, method: str = "basic"):
        headers = {}
        form = dict(form)
        if method == "basic":
            headers = basic_auth(oauth_client["client_id"], oauth_client["client_secret"])
        elif method == "post":
            form.update(client_id=oauth_client["client_id"],
                        client_secret=oauth_client["client_secret"])
        elif method == "none":
            form["client_id"] = oauth_client["client_id"]
        return self.client.post("/oauth2/token", data=form, headers=headers)

    def tokens(self, oauth_client: dict, req: AuthorizationRequest | None = None,
               method: str | None = None, **overrides) -> dict:
        """A complete code flow; returns the token response JSON."""
        req = req or self.request(oauth_client)
        code = self.code(req, **overrides)
        method = method or ("none" if oauth_client["client_secret"] is None else "basic")
        response = self.token(oauth_client, req.token_form(code), method)
        assert response.status_code == 200, response.get_json()
        return response.get_json()


@pytest.fixture
def flow(app, client, user):
    return Flow(app, client, user)


@pytest.fixture
def keyring(app):
    return frontdesk_state(app).keyring
