"""/password/forgot and /password/reset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.extensions import db, frontdesk_state
from app.models import AuditEvent, RefreshToken, User
from tests.hosted.helpers import code_in, csrf_token, login, post_form, query, signed_in_as, text

NEW = "another good passphrase"


def forgot(client, email, **kwargs):
    return post_form(client, "/password/forgot", {"email": email}, **kwargs)


def add_refresh_token(app, user_id, client_id):
    with app.app_context():
        db.session.add(RefreshToken(
            token_hash="a" * 64, family_id="f" * 32, client_id=client_id, user_id=user_id,
            scope="openid", expires_at=datetime.now(UTC) + timedelta(days=1)))
        db.session.commit()


def test_same_answer_for_known_and_unknown_addresses(client, user, outbox):
    known = forgot(client, user["email"])
    unknown = forgot(client, "nobody@example.com")
    invalid = forgot(client, "not an address")
    assert known.status_code == unknown.status_code == invalid.status_code == 303
    assert all(set(query(r.location)) == {"flow"} for r in (known, unknown, invalid))
    assert len(outbox) == 1 and outbox.last()["To"] == user["email"]
    assert text(client.get(known.location)).count("If an account uses that address") == 1


def test_reset_with_code_ends_sessions_and_revokes_tokens(app, client, user, oauth_client,
                                                          outbox):
    other_browser = app.test_client()
    login(other_browser, user["email"], user["password"])
    assert signed_in_as(other_browser) == user["id"]
    add_refresh_token(app, user["id"], oauth_client["client_id"])
    location = forgot(client, user["email"]).location
    message = outbox.last(user["email"])
    code = code_in(outbox.text(message))
    assert f"http://127.0.0.1:5000/password/reset?flow={query(location)['flow']}&code={code}" \
        in outbox.text(message)
    response = post_form(client, location, {"code": code, "password": NEW})
    assert response.status_code == 303 and "/login" in response.location
    assert other_browser.get("/account").status_code == 303  # signed out
    with app.app_context():
        assert db.session.scalar(db.select(RefreshToken.revoked))
        assert db.session.scalar(db.select(AuditEvent).where(AuditEvent.type == "password_reset"))
    assert "The e-mail address or password is not right" in text(
        login(app.test_client(), user["email"], user["password"]))
    assert login(app.test_client(), user["email"], NEW).status_code == 303
    assert "Your password was changed" in outbox.last()["Subject"]


def test_link_prefills_the_code(client, user, outbox):
    forgot(client, user["email"])
    body = outbox.text(outbox.last())
    link = next(line for line in body.splitlines() if "/password/reset?" in line).strip()
    page = client.get(link.replace("http://127.0.0.1:5000", ""))
    assert f'value="{code_in(body)}"' in text(page)
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"


def test_forged_host_header_does_not_reach_the_link(client, user, outbox):
    page = client.get("/password/forgot", headers={"Host": "attacker.test"})
    client.post("/password/forgot", data={"email": user["email"], "csrf_token": csrf_token(page)},
                headers={"Host": "attacker.test", "X-Forwarded-Host": "attacker.test",
                         "X-Forwarded-Proto": "https", "X-Forwarded-Prefix": "/x"})
    body = outbox.text(outbox.last())
    assert "attacker.test" not in body and "/x/" not in body
    assert "http://127.0.0.1:5000/password/reset?flow=" in body


def test_code_is_single_use_and_policy_applies(client, user, outbox):
    location = forgot(client, user["email"]).location
    code = code_in(outbox.text(outbox.last()))
    weak = post_form(client, location, {"code": code, "password": "qwerty"})
    assert weak.status_code == 200 and "too common" in text(weak)
    assert post_form(client, location, {"code": code, "password": NEW}).status_code == 303
    again = post_form(client, location, {"code": code, "password": NEW + "!"})
    assert "expired or was already used" in text(again)


def test_unknown_address_flow_never_accepts_a_code(client):
    location = forgot(client, "nobody@example.com").location
    assert "not right" in text(post_form(client, location, {"code": "123456", "password": NEW}))


def test_too_many_attempts_void_the_code(custom_app):
    app = custom_app(code_max_attempts=2)
    client = app.test_client()
    from app.accounts.users import create_user
    from tests.conftest import Outbox
    with app.app_context():
        create_user(frontdesk_state(app).settings, email="dan@example.com", password=NEW,
                    verified=True)
        db.session.commit()
    outbox = Outbox(frontdesk_state(app).settings.mail_outbox)
    location = forgot(client, "dan@example.com").location
    code = code_in(outbox.text(outbox.last()))
    wrong = "000000" if code != "000000" else "111111"
    post_form(client, location, {"code": wrong, "password": NEW + "1"})
    assert "Too many wrong codes" in text(post_form(client, location, {"code": wrong,
                                                                         "password": NEW + "1"}))
    assert "expired" in text(post_form(client, location, {"code": code, "password": NEW + "1"}))


def test_repeated_request_in_cool_down_keeps_the_mailed_code(client, user, outbox):
    first = forgot(client, user["email"]).location
    second = forgot(client, user["email"]).location
    assert len(outbox) == 1 and query(first) == query(second)
    unknown_1 = forgot(client, "nobody@example.com").location
    unknown_2 = forgot(client, "nobody@example.com").location
    assert query(unknown_1) == query(unknown_2)  # same behaviour for unknown addresses


def test_disabled_account_gets_no_mail(app, client, user, outbox):
    with app.app_context():
        User.find_by_email(user["email"]).status = "disabled"
        db.session.commit()
    assert forgot(client, user["email"]).status_code == 303
    assert len(outbox) == 0


def test_reset_mail_right_after_a_sign_up_mail(client, outbox):
    """The sign-up code's cool-down must not swallow the reset code (found by the e2e run)."""
    email = "fresh@example.com"
    signup = post_form(client, "/signup", {"email": email, "password": NEW, "name": "Fresh"})
    confirm = code_in(outbox.text(outbox.last(email)))
    post_form(client, signup.location, {"code": confirm})
    forgot(client, email)
    assert len(outbox) == 2
    assert "reset" in outbox.last(email)["Subject"].lower()
