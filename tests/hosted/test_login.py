"""/login: success with and without an interaction, one generic failure, lockout, CSRF."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.accounts.users import create_user
from app.extensions import db, frontdesk_state
from app.models import AuditEvent, Client, User
from tests.conftest import PASSWORD
from tests.hosted.helpers import (
    SECURITY_HEADERS,
    csrf_token,
    login,
    post_form,
    query,
    signed_in_as,
    start_authorization,
    text,
)

GENERIC = "The e-mail address or password is not right"


def test_login_page_has_the_contract_fields(client):
    page = client.get("/login")
    body = text(page)
    assert page.status_code == 200
    for needle in ('name="email"', 'name="password"', 'name="csrf_token"', "<title>Sign in",
                   'for="email"', 'for="password"', 'href="/signup"', 'href="/password/forgot"'):
        assert needle in body


def test_login_without_interaction_goes_to_the_account_page(client, user):
    response = login(client, user["email"], user["password"])
    assert response.status_code == 303
    assert response.location.endswith("/account")
    assert signed_in_as(client) == user["id"]
    assert client.get("/account").status_code == 200


def test_login_rotates_the_session_id(client, user, app):
    client.get("/login")
    before = client.get_cookie(frontdesk_state(app).settings.session_cookie_name).value
    login(client, user["email"], user["password"])
    after = client.get_cookie(frontdesk_state(app).settings.session_cookie_name).value
    assert before != after


def test_login_with_interaction_finishes_it(app, client, user, oauth_client):
    req, interaction, location = start_authorization(client, oauth_client)
    assert location.startswith("/login?")
    page = client.get(location)
    assert 'name="interaction"' in text(page) and interaction in text(page)
    assert "Test App" in text(page)
    response = login(client, user["email"], user["password"], interaction)
    # 303 straight to the client with the code: the protocol's resume ran in this request
    assert response.status_code == 303
    assert response.location.startswith(oauth_client["redirect_uri"])
    params = query(response.location)
    assert params["state"] == req.state and params["code"]
    assert params["iss"] == frontdesk_state(app).settings.issuer
    assert response.headers["Cache-Control"] == "no-store"
    gone = client.get(f"/oauth2/authorize/resume/{interaction}")  # used up with the code
    assert gone.status_code == 400


def test_login_is_recorded(app, client, user, oauth_client):
    with app.app_context():
        updated_before = db.session.get(User, user["id"]).updated_at
    _, interaction, _ = start_authorization(client, oauth_client)
    login(client, user["email"], user["password"], interaction)
    with app.app_context():
        row = db.session.get(User, user["id"])
        assert row.last_login_at is not None
        assert row.updated_at == updated_before  # a login is not a change of the user
        events = db.session.scalars(db.select(AuditEvent).where(
            AuditEvent.type == "login_success")).all()
        assert len(events) == 1
        event = events[0]
        assert (event.user_id, event.client_id, event.details) == (
            user["id"], oauth_client["client_id"], {"amr": ["pwd"]})
        assert event.ip and event.created_at is not None and event.actor is None


def test_login_hint_prefills_the_email(client, user, oauth_client):
    _, interaction, location = start_authorization(client, oauth_client,
                                                   login_hint="hint@example.com")
    assert 'value="hint@example.com"' in text(client.get(location))


@pytest.mark.parametrize("case", ["wrong_password", "unknown_user", "disabled"])
def test_failures_look_the_same(app, client, user, case):
    if case == "disabled":
        with app.app_context():
            User.find_by_email(user["email"]).status = "disabled"
            db.session.commit()
    email = "nobody@example.com" if case == "unknown_user" else user["email"]
    password = "wrong password!" if case == "wrong_password" else user["password"]
    response = login(client, email, password)
    assert response.status_code == 200
    assert GENERIC in text(response)
    assert signed_in_as(client) is None
    with app.app_context():
        events = db.session.scalars(db.select(AuditEvent).where(
            AuditEvent.type == "login_failure")).all()
        assert len(events) == 1 and events[0].details["email"] == email


def test_failure_pages_are_identical_for_unknown_and_wrong(client, user):
    first = text(login(client, user["email"], "wrong password!"))
    second = text(login(client, "nobody@example.com", "wrong password!"))
    strip = lambda body: body.replace(user["email"], "X").replace("nobody@example.com", "X")  # noqa: E731
    import re
    pattern = re.compile(r'value="[^"]{40,}"')  # CSRF tokens differ
    assert pattern.sub("", strip(first)) == pattern.sub("", strip(second))


def test_lockout_after_repeated_failures(custom_app):
    app = custom_app(login_max_failures=3, lockout_seconds=60)
    with app.app_context():
        create_user(frontdesk_state(app).settings, email="bob@example.com", password=PASSWORD,
                    verified=True)
        db.session.commit()
    client = app.test_client()
    for _ in range(3):
        assert GENERIC in text(login(client, "bob@example.com", "wrong password!"))
    locked = login(client, "bob@example.com", PASSWORD)
    assert locked.status_code == 200 and GENERIC in text(locked)
    assert signed_in_as(client) is None
    # an unknown address locks the same way (the lockout reveals nothing)
    for _ in range(3):
        login(client, "ghost@example.com", "wrong password!")
    with app.app_context():
        from app.accounts.lockout import is_locked
        assert is_locked(frontdesk_state(app).store, "ghost@example.com")


def test_missing_csrf_token_is_400(client, user):
    client.get("/login")
    response = client.post("/login", data={"email": user["email"], "password": user["password"]})
    assert response.status_code == 400
    assert signed_in_as(client) is None
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value


def test_wrong_csrf_token_is_400(client, user):
    response = client.post("/login", data={"email": user["email"], "password": user["password"],
                                           "csrf_token": "forged"})
    assert response.status_code == 400


def test_empty_fields_are_field_errors(client):
    response = post_form(client, "/login", {"email": "", "password": ""})
    body = text(response)
    assert response.status_code == 200
    assert 'aria-invalid="true"' in body and 'aria-describedby="email-error"' in body
    assert 'role="alert"' in body


def test_unknown_interaction_shows_the_expired_page(client, user):
    response = client.get("/login?interaction=does-not-exist")
    assert response.status_code == 400
    assert "This sign-in request has expired" in text(response)
    token = csrf_token(client.get("/login"))
    posted = client.post("/login?interaction=gone", data={
        "csrf_token": token, "email": user["email"], "password": user["password"],
        "interaction": "gone"})
    assert posted.status_code == 400 and signed_in_as(client) is None


def test_interaction_of_another_browser_is_expired(app, user, oauth_client):
    first, second = app.test_client(), app.test_client()
    _, interaction, location = start_authorization(first, oauth_client)
    assert second.get(location).status_code == 400


def test_unverified_user_must_confirm_the_email(app, client, outbox):
    with app.app_context():
        create_user(frontdesk_state(app).settings, email="new@example.com", password=PASSWORD)
        db.session.commit()
    response = login(client, "new@example.com", PASSWORD)
    assert response.status_code == 303 and "/signup/confirm" in response.location
    assert signed_in_as(client) is None
    message = outbox.last("new@example.com")
    from tests.hosted.helpers import code_in
    code = code_in(outbox.text(message))
    confirmed = post_form(client, response.location, {"code": code})
    assert confirmed.status_code == 303 and confirmed.location.endswith("/account")
    with app.app_context():
        assert User.find_by_email("new@example.com").email_verified


def test_signed_in_user_visiting_login_goes_to_account(client, user):
    login(client, user["email"], user["password"])
    response = client.get("/login")
    assert response.status_code == 303 and response.location.endswith("/account")


def test_burst_of_posts_gets_429(custom_app):
    app = custom_app(ip_max_requests_per_minute=2)
    client = app.test_client()
    for _ in range(2):
        assert post_form(client, "/login", {"email": "a@example.com", "password": "x"}) \
            .status_code == 200
    response = post_form(client, "/login", {"email": "a@example.com", "password": "x"})
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "60"
    assert "Too many attempts" in text(response)


def test_pre_authentication_trigger_can_reject(custom_app):
    app = custom_app(trigger_pre_authentication="tests.hosted.triggers:reject_authentication")
    with app.app_context():
        create_user(frontdesk_state(app).settings, email="carol@example.com", password=PASSWORD,
                    verified=True)
        db.session.commit()
    client = app.test_client()
    response = login(client, "carol@example.com", PASSWORD)
    assert response.status_code == 200
    assert "Sign-in is paused for this account." in text(response)
    assert signed_in_as(client) is None


def test_user_migration_trigger_imports_an_unknown_user(custom_app):
    app = custom_app(trigger_user_migration="tests.hosted.triggers:migrate_legacy_user")
    client = app.test_client()
    assert GENERIC in text(login(client, "legacy@example.com", "wrong legacy pw"))
    response = login(client, "legacy@example.com", "legacy password 1")
    assert response.status_code == 303
    with app.app_context():
        migrated = User.find_by_email("legacy@example.com")
        assert migrated.email_verified and migrated.attributes["name"] == "Legacy User"
    client2 = app.test_client()
    assert login(client2, "legacy@example.com", "legacy password 1").status_code == 303


def test_user_migration_with_invalid_attributes_creates_nobody(custom_app):
    app = custom_app(trigger_user_migration="tests.hosted.triggers:migrate_with_bad_attributes")
    client = app.test_client()
    response = login(client, "legacy@example.com", "legacy password 1")
    assert response.status_code == 200 and GENERIC in text(response)
    assert signed_in_as(client) is None
    with app.app_context():
        assert User.find_by_email("legacy@example.com") is None
        assert db.session.scalars(db.select(AuditEvent.details).where(
            AuditEvent.type == "login_failure")).one()["reason"] == "unknown_user"


def _legacy_hashes() -> list[tuple[str, str, str]]:
    import bcrypt

    from tests.test_portability import VECTORS

    vectors = {name: (password, hash_) for name, password, hash_ in VECTORS}
    return [("bcrypt", "bcrypt pass 1",
             bcrypt.hashpw(b"bcrypt pass 1", bcrypt.gensalt(4)).decode()),
            ("pbkdf2_sha256", *vectors["django-pbkdf2"]),
            ("scrypt", *vectors["passlib-scrypt"])]


@pytest.mark.parametrize("scheme, password, legacy", _legacy_hashes(),
                         ids=[h[0] for h in _legacy_hashes()])
def test_imported_legacy_hash_signs_in_and_becomes_argon2id(app, client, scheme, password,
                                                            legacy):
    from app.accounts.portability import import_record

    email = f"{scheme}@example.com"
    with app.app_context():
        assert import_record(frontdesk_state(app).settings, {
            "email": email, "password_hash": legacy, "email_verified": True}) == "created"
        db.session.commit()
    wrong = login(client, email, password + "x")
    assert wrong.status_code == 200 and GENERIC in text(wrong)
    assert signed_in_as(client) is None
    with app.app_context():
        assert User.find_by_email(email).password_hash == legacy  # only a match upgrades
    response = login(client, email, password)
    assert response.status_code == 303 and response.location.endswith("/account")
    with app.app_context():
        user = User.find_by_email(email)
        assert user.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
        assert signed_in_as(client) == user.id
    again = app.test_client()
    assert login(again, email, password).status_code == 303  # with the new hash
    assert GENERIC in text(login(app.test_client(), email, "wrong password!"))


@pytest.mark.parametrize("path", ["/login", "/signup", "/password/reset?flow=x&code=123456"])
def test_password_inputs_are_masked(client, path):
    """Every password input keeps type=password (the field macro once dropped it)."""
    import re

    body = text(client.get(path))
    inputs = re.findall(r"<input[^>]*name=\"password\"[^>]*>", body)
    assert inputs, body
    assert all('type="password"' in tag for tag in inputs), inputs
    assert re.search(r'<input[^>]*name="email"[^>]*type="email"|<input[^>]*type="email"[^>]*'
                     r'name="email"', body) or path.startswith("/password")


def test_account_password_inputs_are_masked(client, user):
    import re

    login(client, user["email"], user["password"])
    body = text(client.get("/account"))
    inputs = re.findall(r"<input[^>]*name=\"[a-z_]*password\"[^>]*>", body)
    assert len(inputs) >= 2 and all('type="password"' in tag for tag in inputs), inputs


def test_a_legacy_hash_is_replaced_at_a_hosted_login(app, client):
    """The login reads the user outside the ORM and merges it in; an upgraded hash must
    still be written, with the rehash event, and the login recorded."""
    import bcrypt

    legacy = bcrypt.hashpw(b"Legacy-pass-1", bcrypt.gensalt(rounds=4)).decode()
    with app.app_context():
        user = create_user(frontdesk_state(app).settings, email="Legacy@Example.com",
                           password=None, verified=True, password_hash=legacy)
        db.session.commit()
        user_id = user.id
    response = login(client, "  legacy@EXAMPLE.com ", "Legacy-pass-1")
    assert response.status_code == 303 and response.location.endswith("/account")
    assert signed_in_as(client) == user_id
    with app.app_context():
        row = db.session.get(User, user_id)
        assert row.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
        assert row.last_login_at is not None
        types = db.session.scalars(db.select(AuditEvent.type).where(
            AuditEvent.user_id == user_id)).all()
        assert sorted(types) == ["login_success", "user.password_rehashed"]
    other_browser = app.test_client()
    again = login(other_browser, "legacy@example.com", "Legacy-pass-1")  # the argon2id hash
    assert again.status_code == 303 and signed_in_as(other_browser) == user_id


def test_form_post_client_gets_the_form_page_from_the_login_post(client, user, oauth_client):
    req, interaction, _ = start_authorization(client, oauth_client, response_mode="form_post")
    response = login(client, user["email"], user["password"], interaction)
    assert response.status_code == 200  # the page posting the code, straight from POST /login
    body = text(response)
    assert f'action="{oauth_client["redirect_uri"]}"' in body
    assert 'name="code"' in body and f'value="{req.state}"' in body
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'nonce-" in csp and "form-action http://127.0.0.1:9999" in csp
    assert response.headers["Cache-Control"] == "no-store"


def test_redirect_uri_removed_during_login_is_an_error_page_not_a_redirect(
        app, client, user, oauth_client):
    _, interaction, _ = start_authorization(client, oauth_client)
    with app.app_context():
        registered = db.session.execute(
            select(Client).where(Client.client_id == oauth_client["client_id"])).scalar_one()
        registered.redirect_uris = ["http://127.0.0.1:9999/other"]
        db.session.commit()
    response = login(client, user["email"], user["password"], interaction)
    assert response.status_code == 400 and "Location" not in response.headers
    assert "not registered" in text(response)
    assert signed_in_as(client) == user["id"]  # the login itself stands


def test_client_losing_the_grant_meanwhile_gets_the_error_by_redirect(
        app, client, user, oauth_client):
    req, interaction, _ = start_authorization(client, oauth_client)
    with app.app_context():
        registered = db.session.execute(
            select(Client).where(Client.client_id == oauth_client["client_id"])).scalar_one()
        registered.grant_types = ["refresh_token"]  # authorization_code withdrawn
        db.session.commit()
    response = login(client, user["email"], user["password"], interaction)
    assert response.status_code == 303
    assert response.location.startswith(oauth_client["redirect_uri"])
    params = query(response.location)
    assert params["error"] == "unauthorized_client" and params["state"] == req.state
    assert "code" not in params


def test_prompt_consent_goes_from_login_straight_to_the_consent_page(
        client, user, oauth_client):
    _, interaction, _ = start_authorization(client, oauth_client, prompt="consent")
    response = login(client, user["email"], user["password"], interaction)
    assert response.status_code == 303
    assert response.location.startswith(f"/consent?interaction={interaction}")
    assert client.get(response.location).status_code == 200


def test_updated_at_moves_for_a_change_of_the_user_not_for_a_login(app, user):
    with app.app_context():
        row = db.session.get(User, user["id"])
        before = row.updated_at
        row.last_login_at = row.updated_at  # an ORM flush that only records a sign-in
        db.session.commit()
        row = db.session.get(User, user["id"])
        assert row.updated_at == before and row.last_login_at is not None
        row.attributes = {**row.attributes, "name": "Alice Renamed"}
        row.last_login_at = None
        db.session.commit()
        assert db.session.get(User, user["id"]).updated_at > before
