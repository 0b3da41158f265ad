"""/signup and /signup/confirm: codes by mail, enumeration-safe, policy, attributes, limits."""

from __future__ import annotations

import json
import time

import pytest

from app.accounts.users import create_user
from app.extensions import db, frontdesk_state
from app.models import AuditEvent, User
from app.oauth.clients import create_client
from tests.conftest import PASSWORD, Outbox
from tests.hosted.helpers import (
    code_in,
    post_form,
    query,
    signed_in_as,
    start_authorization,
    text,
)
from tests.oauth.helpers import basic_auth, verify_jwt

GOOD = {"email": "new@example.com", "password": "a fine new passphrase", "name": "New Person"}


def signup(client, **overrides):
    return post_form(client, "/signup", {**GOOD, **overrides})


def test_signup_page_fields(client):
    body = text(client.get("/signup"))
    for needle in ('name="email"', 'name="password"', 'name="name"', 'for="name"',
                   "<title>Create your account", 'autocomplete="new-password"'):
        assert needle in body


def test_signup_confirm_creates_and_signs_in(app, client, outbox):
    response = signup(client)
    assert response.status_code == 303 and "/signup/confirm?flow=" in response.location
    with app.app_context():
        assert User.find_by_email(GOOD["email"]) is None  # only once confirmed
    message = outbox.last(GOOD["email"])
    body = outbox.text(message)
    code = code_in(body)
    assert "http://127.0.0.1:5000/signup/confirm?flow=" in body and f"code={code}" in body
    assert code in outbox.html(message)
    page = client.get(response.location)
    assert "Confirm your e-mail address" in text(page)
    confirmed = post_form(client, response.location, {"code": code})
    assert confirmed.status_code == 303 and confirmed.location.endswith("/account")
    with app.app_context():
        created = User.find_by_email(GOOD["email"])
        assert created.email_verified and created.attributes == {"name": "New Person"}
        assert signed_in_as(client) == created.id
        assert db.session.scalar(db.select(AuditEvent).where(AuditEvent.type == "signup"))


def test_existing_address_gets_the_same_page_and_a_mail_to_the_owner(app, client, user, outbox):
    fresh = signup(client, email="someone@example.com")
    again = signup(client, email=user["email"])
    assert again.status_code == fresh.status_code == 303
    assert set(query(again.location)) == set(query(fresh.location)) == {"flow"}
    page_new, page_old = client.get(fresh.location), client.get(again.location)
    assert page_new.status_code == page_old.status_code == 200
    message = outbox.last(user["email"])
    assert "already have one" in outbox.text(message)
    assert "http://127.0.0.1:5000/login" in outbox.text(message)
    # no code in that mail can confirm anything
    wrong = post_form(client, again.location, {"code": "123456"})
    assert "That code is not right" in text(wrong)
    with app.app_context():
        assert User.query.count() == 1


def test_link_from_another_browser_confirms_and_asks_to_sign_in(app, client, outbox):
    signup(client)
    body = outbox.text(outbox.last(GOOD["email"]))
    link = next(line for line in body.splitlines() if "/signup/confirm?" in line).strip()
    path = link.replace("http://127.0.0.1:5000", "")
    other = app.test_client()
    page = other.get(path)
    assert f'value="{query(path)["code"]}"' in text(page)
    response = post_form(other, path, {"code": query(path)["code"]})
    assert response.status_code == 303 and "/login" in response.location
    assert signed_in_as(other) is None
    assert "Your e-mail address is confirmed" in text(other.get(response.location))


def test_mail_links_use_the_issuer_not_the_host_header(client, outbox):
    page = client.get("/signup", headers={"Host": "evil.example"})
    from tests.hosted.helpers import csrf_token
    client.post("/signup", data={**GOOD, "csrf_token": csrf_token(page)}, headers={
        "Host": "evil.example", "X-Forwarded-Host": "evil.example",
        "X-Forwarded-Proto": "https"})
    body = outbox.text(outbox.last(GOOD["email"]))
    assert "evil.example" not in body and "http://127.0.0.1:5000/signup/confirm" in body


def test_password_policy(app, client):
    for password, message in (("short", "at least 8 characters"),
                              ("password123", "too common"),
                              ("new@example.com", "e-mail address as your password")):
        response = signup(client, password=password)
        assert response.status_code == 200
        assert message in text(response), password
        assert 'aria-describedby="password-hint password-error"' in text(response)


def test_character_classes_are_configurable(custom_app):
    app = custom_app(password_require="digit,upper")
    response = signup(app.test_client(), password="only lowercase words")
    assert "Include a digit." in text(response) and "Include an uppercase letter." in text(response)
    assert signup(app.test_client(), password="Lowercase words 42").status_code == 303


def test_required_attributes(custom_app):
    app = custom_app(signup_required_attributes="given_name,family_name")
    client = app.test_client()
    body = text(client.get("/signup"))
    assert 'name="given_name"' in body and 'name="family_name"' in body
    assert 'name="name"' not in body
    response = signup(client, given_name="", family_name="Doe")
    assert response.status_code == 200 and "Please fill in this field." in text(response)


def test_signup_can_be_turned_off(custom_app):
    app = custom_app(signup_enabled=False)
    client = app.test_client()
    assert client.get("/signup").status_code == 403
    assert 'href="/signup"' not in text(client.get("/login"))


def test_wrong_codes_then_exhausted(custom_app):
    app = custom_app(code_max_attempts=3)
    client = app.test_client()
    location = signup(client).location
    for _ in range(2):
        assert "That code is not right" in text(post_form(client, location, {"code": "000000"}))
    assert "Too many wrong codes" in text(post_form(client, location, {"code": "000000"}))
    assert "expired" in text(post_form(client, location, {"code": "000000"}))


def test_code_expires(custom_app):
    app = custom_app(code_ttl_seconds=1)
    client = app.test_client()
    from tests.conftest import Outbox
    outbox = Outbox(frontdesk_state(app).settings.mail_outbox)
    location = signup(client).location
    code = code_in(outbox.text(outbox.last()))
    time.sleep(1.5)
    response = post_form(client, location, {"code": code})
    assert "This code has expired" in text(response)
    with app.app_context():
        assert User.find_by_email(GOOD["email"]) is None


def test_code_is_single_use(app, client, outbox):
    location = signup(client).location
    code = code_in(outbox.text(outbox.last()))
    assert post_form(client, location, {"code": code}).status_code == 303
    assert "expired or was already used" in text(post_form(client, location, {"code": code}))


def test_resend_has_a_cool_down(custom_app):
    app = custom_app(mail_cooldown_seconds=1)
    client = app.test_client()
    from tests.conftest import Outbox
    outbox = Outbox(frontdesk_state(app).settings.mail_outbox)
    location = signup(client).location
    first = code_in(outbox.text(outbox.last()))
    too_soon = post_form(client, location, {"action": "resend"})
    assert "Please wait a minute" in text(too_soon) and len(outbox) == 1
    time.sleep(1.2)
    resent = post_form(client, location, {"action": "resend"})
    assert "We sent a new code" in text(resent) and len(outbox) == 2
    second = code_in(outbox.text(outbox.last()))
    if second != first:
        assert "not right" in text(post_form(client, location, {"code": first}))
    assert post_form(client, location, {"code": second}).status_code == 303


def test_pre_sign_up_trigger_rejects(custom_app):
    app = custom_app(trigger_pre_sign_up="tests.hosted.triggers:reject_example_org")
    response = signup(app.test_client(), email="x@example.org")
    assert response.status_code == 200
    assert "Sign-ups from example.org are closed." in text(response)


def test_pre_sign_up_trigger_can_auto_confirm(custom_app):
    app = custom_app(trigger_pre_sign_up="tests.hosted.triggers:auto_confirm")
    client = app.test_client()
    response = signup(client)
    assert response.status_code == 303 and response.location.endswith("/account")
    with app.app_context():
        assert User.find_by_email(GOOD["email"]).email_verified


def test_custom_message_trigger_rewrites_the_mail(custom_app):
    app = custom_app(trigger_custom_message="tests.hosted.triggers:rewrite_subject")
    signup(app.test_client())
    from tests.conftest import Outbox
    outbox = Outbox(frontdesk_state(app).settings.mail_outbox)
    assert outbox.last()["Subject"].startswith("[Custom] Your confirmation code")


def test_confirm_after_someone_else_took_the_address(app, client, outbox):
    location = signup(client).location
    code = code_in(outbox.text(outbox.last()))
    with app.app_context():
        create_user(frontdesk_state(app).settings, email=GOOD["email"], password=PASSWORD)
        db.session.commit()
    assert "expired" in text(post_form(client, location, {"code": code}))


# --- custom attributes (FRONTDESK_CUSTOM_ATTRIBUTES, docs/admin-api.md) ----------------------

CUSTOM = json.dumps([
    {"name": "team", "type": "string", "required": True, "enum": ["red", "blue"],
     "label": "Team colour"},
    {"name": "seats", "type": "number", "required": True, "min": 1, "max": 50},
    {"name": "newsletter", "type": "boolean", "required": True, "scope": "email"},
    {"name": "starts_at", "type": "datetime", "required": True},
    {"name": "nickname_note", "type": "string", "required": False},
    {"name": "org", "type": "string", "required": True, "write_clients": ["other-app"]},
])
CUSTOM_GOOD = {"team": "red", "seats": "3", "newsletter": "true",
               "starts_at": "2030-01-31T14:00"}


def pool_app(custom_app):
    app = custom_app(custom_attributes=CUSTOM)
    with app.app_context():
        made = create_client(name="Pool App", redirect_uris=["http://127.0.0.1:9999/cb"],
                             grant_types=["authorization_code"], is_first_party=True)
        db.session.commit()
        oauth_client = {"client_id": made.client.client_id, "client_secret": made.client_secret,
                        "redirect_uri": "http://127.0.0.1:9999/cb"}
    return app, oauth_client


def test_custom_attributes_are_asked_with_suitable_inputs(custom_app):
    app, oauth_client = pool_app(custom_app)
    client = app.test_client()
    _, interaction, _ = start_authorization(client, oauth_client, scope="openid profile")
    body = text(client.get(f"/signup?interaction={interaction}"))
    for needle in ('<label class="fd-label" for="team">Team colour</label>',
                   '<select class="fd-input" id="team" name="team" required>',
                   '<option value="blue">blue</option>',
                   'for="seats">Seats</label>', 'max="50" min="1" name="seats"', 'type="number"',
                   'for="newsletter">Newsletter</label>', '<option value="true">Yes</option>',
                   'for="starts_at">Starts at</label>', 'type="datetime-local"',
                   'aria-describedby="seats-hint"', "A number from 1 to 50.",
                   'name="name"', 'type="password"'):
        assert needle in body, needle
    assert 'name="nickname_note"' not in body  # optional: not asked at sign-up
    assert 'name="org"' not in body  # this application may not write it
    assert 'name="org"' in text(app.test_client().get("/signup"))  # no application: asked


@pytest.mark.parametrize("field, value, message", [
    ("seats", "0", "A number from 1 to 50."),
    ("seats", "many", "A number from 1 to 50."),
    ("team", "green", "Choose one of the options."),
    ("newsletter", "maybe", "Choose one of the options."),
    ("starts_at", "next tuesday", "Enter a date and time, like 2030-01-31 14:00."),
    ("team", "", "Please fill in this field."),
])
def test_invalid_custom_attributes_are_field_errors_and_nothing_is_stored(custom_app, field,
                                                                          value, message):
    app, oauth_client = pool_app(custom_app)
    client = app.test_client()
    _, interaction, _ = start_authorization(client, oauth_client)
    response = post_form(client, f"/signup?interaction={interaction}",
                         {**GOOD, **CUSTOM_GOOD, field: value, "interaction": interaction})
    body = text(response)
    assert response.status_code == 200
    assert f'<p class="fd-field-error" id="{field}-error">{message}</p>' in body
    assert 'aria-invalid="true"' in body and f'{field}-error"' in body
    assert "Please check the highlighted fields." in body
    assert len(Outbox(frontdesk_state(app).settings.mail_outbox)) == 0  # no flow, no mail
    with app.app_context():
        assert User.find_by_email(GOOD["email"]) is None


def test_custom_attributes_are_stored_and_released_by_scope(custom_app):
    app, oauth_client = pool_app(custom_app)
    client = app.test_client()
    req, interaction, _ = start_authorization(client, oauth_client, scope="openid profile")
    started = post_form(client, f"/signup?interaction={interaction}",
                        {**GOOD, **CUSTOM_GOOD, "seats": " 3 ", "interaction": interaction})
    assert started.status_code == 303, text(started)
    outbox = Outbox(frontdesk_state(app).settings.mail_outbox)
    code = code_in(outbox.text(outbox.last(GOOD["email"])))
    confirmed = post_form(client, started.location, {"code": code, "interaction": interaction})
    assert confirmed.status_code == 303 and query(confirmed.location)["code"]
    with app.app_context():
        user = User.find_by_email(GOOD["email"])
        assert user.attributes == {"name": "New Person", "team": "red", "seats": 3,
                                   "newsletter": True, "starts_at": "2030-01-31T14:00:00Z"}
    tokens = client.post("/oauth2/token", data=req.token_form(query(confirmed.location)["code"]),
                         headers=basic_auth(oauth_client["client_id"],
                                            oauth_client["client_secret"])).get_json()
    _, claims = verify_jwt(client, tokens["id_token"])
    assert claims["team"] == "red" and claims["seats"] == 3
    assert claims["starts_at"] == "2030-01-31T14:00:00Z"
    assert "newsletter" not in claims  # released by the email scope, not asked for


def test_custom_attribute_errors_are_translated(custom_app):
    app, _ = pool_app(custom_app)
    client = app.test_client()
    headers = {"Accept-Language": "de"}
    page = client.get("/signup", headers=headers)
    assert "Bitte wählen…" in text(page) and '<option value="true">Ja</option>' in text(page)
    from tests.hosted.helpers import csrf_token
    response = client.post("/signup", headers=headers, data={
        **GOOD, **CUSTOM_GOOD, "org": "Acme", "seats": "99", "csrf_token": csrf_token(page)})
    assert "Eine Zahl von 1 bis 50." in text(response)
