"""/mfa/setup and /mfa: enrolment, challenge, replay, recovery codes, policy."""

from __future__ import annotations

import re

import pyotp

from app.accounts.mfa import read_totp_secret, store_totp_secret
from app.accounts.recovery_codes import hash_recovery_code
from app.accounts.users import create_user
from app.extensions import db, frontdesk_state
from app.models import AuditEvent, User
from tests.conftest import PASSWORD
from tests.hosted.helpers import (
    login,
    post_form,
    query,
    session_amr,
    signed_in_as,
    start_authorization,
    text,
)

SECRET_RE = re.compile(r'id="totp-secret" data-secret="([A-Z2-7]+)"')
CODES_RE = re.compile(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>")


def enroll(client) -> tuple[str, list[str]]:
    page = client.get("/mfa/setup")
    assert page.status_code == 200, page.status_code
    body = text(page)
    assert "<svg" in body and "fd-qr-image" in body
    secret = SECRET_RE.search(body).group(1)
    response = post_form(client, "/mfa/setup", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200, text(response)
    codes = CODES_RE.findall(text(response))
    return secret, codes


def mfa_user(app, email="mfa@example.com", secret=None) -> str:
    secret = secret or pyotp.random_base32(32)
    with app.app_context():
        user = create_user(frontdesk_state(app).settings, email=email, password=PASSWORD,
                           verified=True)
        store_totp_secret(frontdesk_state(app).settings, user, secret, enabled=True)
        db.session.commit()
    return secret


def test_setup_shows_qr_and_secret_then_ten_recovery_codes(app, client, user):
    login(client, user["email"], user["password"])
    secret, codes = enroll(client)
    assert len(codes) == 10 and len(set(codes)) == 10
    with app.app_context():
        stored = User.find_by_email(user["email"])
        assert stored.totp_enabled
        assert read_totp_secret(frontdesk_state(app).settings, stored) == secret
        assert secret not in (stored.totp_secret or "")  # sealed at rest
        assert stored.recovery_code_hashes == [hash_recovery_code(c) for c in codes]
        assert db.session.scalar(db.select(AuditEvent).where(AuditEvent.type == "mfa_enabled"))


def test_setup_page_is_not_cached(client, user):
    login(client, user["email"], user["password"])
    page = client.get("/mfa/setup")
    assert page.headers["Cache-Control"] == "no-store"
    assert "img-src 'self' data:" in page.headers["Content-Security-Policy"]


def test_setup_rejects_a_wrong_code(app, client, user):
    login(client, user["email"], user["password"])
    client.get("/mfa/setup")
    response = post_form(client, "/mfa/setup", {"code": "000000"})
    assert "That code is not right" in text(response)
    with app.app_context():
        assert not User.find_by_email(user["email"]).totp_enabled


def test_setup_needs_a_signed_in_user(client):
    response = client.get("/mfa/setup")
    assert response.status_code == 303 and "/login" in response.location


def test_login_asks_for_the_code_and_amr_says_otp(app, client, oauth_client):
    secret = mfa_user(app)
    _, interaction, _ = start_authorization(client, oauth_client)
    response = login(client, "mfa@example.com", PASSWORD, interaction)
    assert response.status_code == 303 and response.location.startswith("/mfa?interaction=")
    assert signed_in_as(client) is None  # pending, not signed in
    assert client.get("/account").status_code == 303
    page = client.get(response.location)
    assert 'name="code"' in text(page) and "<title>Two-step verification" in text(page)
    done = post_form(client, response.location, {"code": pyotp.TOTP(secret).now(),
                                                 "interaction": interaction})
    assert done.status_code == 303 and query(done.location)["code"]  # straight to the client
    assert session_amr(client) == ["pwd", "otp", "mfa"]


def test_wrong_and_reused_codes_are_rejected(app, oauth_client):
    secret = mfa_user(app)
    first = app.test_client()
    login(first, "mfa@example.com", PASSWORD)
    assert "That code is not right" in text(post_form(first, "/mfa", {"code": "000000"}))
    code = pyotp.TOTP(secret).now()
    assert post_form(first, "/mfa", {"code": code}).status_code == 303
    second = app.test_client()
    login(second, "mfa@example.com", PASSWORD)
    replay = post_form(second, "/mfa", {"code": code})
    assert replay.status_code == 200 and "That code is not right" in text(replay)
    assert signed_in_as(second) is None


def test_code_of_an_earlier_step_than_the_last_used_is_rejected(app):
    from app.accounts.mfa import verify_totp
    secret = mfa_user(app)
    with app.app_context():
        store = frontdesk_state(app).store
        totp = pyotp.TOTP(secret)
        now = 1_900_000_000
        assert verify_totp(store, secret, "u1", totp.at(now), now=now)
        assert not verify_totp(store, secret, "u1", totp.at(now - 30), now=now)  # older step
        assert verify_totp(store, secret, "u1", totp.at(now + 30), now=now + 30)


def test_recovery_code_works_once(app):
    mfa_user(app)
    with app.app_context():
        user = User.find_by_email("mfa@example.com")
        from app.accounts.recovery_codes import generate_recovery_codes
        codes = generate_recovery_codes(user)
        db.session.commit()
    again = app.test_client()
    login(again, "mfa@example.com", PASSWORD)
    assert post_form(again, "/mfa", {"code": codes[0].upper()}).status_code == 303
    assert session_amr(again) == ["pwd", "mfa"]
    third = app.test_client()
    login(third, "mfa@example.com", PASSWORD)
    assert "That code is not right" in text(post_form(third, "/mfa", {"code": codes[0]}))
    with app.app_context():
        assert len(User.find_by_email("mfa@example.com").recovery_code_hashes) == 9


def test_mfa_failures_lock_the_account(custom_app):
    app = custom_app(login_max_failures=2)
    secret = mfa_user(app)
    client = app.test_client()
    login(client, "mfa@example.com", PASSWORD)
    post_form(client, "/mfa", {"code": "000000"})
    locked = post_form(client, "/mfa", {"code": "000001"})
    assert "Too many wrong codes" in text(locked)
    assert client.get("/mfa").status_code == 303  # pending state dropped
    assert "The e-mail address or password is not right" in text(
        login(client, "mfa@example.com", PASSWORD))
    assert secret


def test_policy_required_forces_enrolment(custom_app):
    app = custom_app(mfa_policy="required")
    with app.app_context():
        create_user(frontdesk_state(app).settings, email="eve@example.com", password=PASSWORD,
                    verified=True)
        db.session.commit()
    client = app.test_client()
    response = login(client, "eve@example.com", PASSWORD)
    assert response.status_code == 303 and response.location.startswith("/mfa/setup")
    assert signed_in_as(client) is None
    assert client.get("/account").status_code == 303
    page = client.get(response.location)
    secret = SECRET_RE.search(text(page)).group(1)
    done = post_form(client, response.location, {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200 and len(CODES_RE.findall(text(done))) == 10
    assert 'id="fd-continue" href="/account"' in text(done)
    assert signed_in_as(client) is not None and session_amr(client) == ["pwd", "otp", "mfa"]


def test_policy_off_skips_the_challenge(custom_app):
    app = custom_app(mfa_policy="off")
    mfa_user(app)
    client = app.test_client()
    response = login(client, "mfa@example.com", PASSWORD)
    assert response.status_code == 303 and response.location.endswith("/account")
    assert client.get("/mfa/setup").status_code == 404


def test_mfa_page_without_pending_login_goes_back_to_login(client):
    response = client.get("/mfa")
    assert response.status_code == 303 and "/login" in response.location
