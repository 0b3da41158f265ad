"""app/mail.py: message building and the smtp (against a real aiosmtpd server), file and
console backends."""

from __future__ import annotations

import socket
import time

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from app.extensions import frontdesk_state
from app.mail import (
    ConsoleBackend,
    FileBackend,
    Mailer,
    MailError,
    RenderedMail,
    build_message,
    issuer_url,
    render_mail,
)
from tests.conftest import Outbox
from tests.hosted.helpers import custom_apps

MAIL = RenderedMail(subject="Hello there", text="Plain body 123456\n",
                    html="<p>HTML body <b>123456</b></p>")


@pytest.fixture
def custom_app(tmp_path, postgres_schema):
    yield from custom_apps(tmp_path, postgres_schema)


class Collector:
    def __init__(self) -> None:
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.envelopes.append(envelope)
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    collector = Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, collector
    controller.stop()


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"mailer" and \
        auth_data.password == b"s3cret"
    return AuthResult(success=ok)


def wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("timed out")


def test_message_has_text_and_html_parts(settings):
    message = build_message(settings, "to@example.com", MAIL)
    assert message["To"] == "to@example.com" and message["Subject"] == "Hello there"
    assert message["From"] == settings.mail_from and message["Message-ID"]
    assert message.get_body(("plain",)).get_content() == "Plain body 123456\n"
    assert "<b>123456</b>" in message.get_body(("html",)).get_content()


def test_smtp_backend_delivers_to_a_real_server(custom_app, smtp_server):
    controller, collector = smtp_server
    app = custom_app(mail_backend="smtp", smtp_host="127.0.0.1",
                   smtp_port=controller.port)
    frontdesk_state(app).mailer.send("bob@example.com", MAIL)
    wait_for(lambda: collector.envelopes)
    envelope = collector.envelopes[0]
    assert envelope.rcpt_tos == ["bob@example.com"]
    assert b"Subject: Hello there" in envelope.original_content
    assert b"multipart/alternative" in envelope.original_content


def test_smtp_backend_logs_in(custom_app):
    collector = Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=free_port(),
                            authenticator=authenticator, auth_require_tls=False)
    controller.start()
    try:
        good = custom_app(mail_backend="smtp",
                        smtp_port=controller.port, smtp_username="mailer", smtp_password="s3cret")
        frontdesk_state(good).mailer.send("carol@example.com", MAIL)
        wait_for(lambda: collector.envelopes)
        bad = custom_app(mail_backend="smtp",
                       smtp_port=controller.port, smtp_username="mailer", smtp_password="nope")
        with pytest.raises(MailError):
            frontdesk_state(bad).mailer.send("carol@example.com", MAIL)
    finally:
        controller.stop()


def test_smtp_server_down_is_a_mail_error(custom_app):
    app = custom_app(mail_backend="smtp", smtp_port=free_port(),
                   smtp_timeout_seconds=2)
    with pytest.raises(MailError):
        frontdesk_state(app).mailer.send("x@example.com", MAIL)


def test_flow_survives_a_mail_failure(custom_app):
    app = custom_app(mail_backend="smtp", smtp_port=free_port(),
                   smtp_timeout_seconds=2)
    from tests.hosted.helpers import post_form
    response = post_form(app.test_client(), "/password/forgot", {"email": "x@example.com"})
    assert response.status_code == 303


def test_file_backend_writes_one_eml_per_message(tmp_path, settings):
    backend = FileBackend(str(tmp_path / "out"))
    for n in range(3):
        backend.deliver(build_message(settings, f"u{n}@example.com", MAIL))
    outbox = Outbox(tmp_path / "out")
    assert [m["To"] for m in outbox.messages()] == [f"u{n}@example.com" for n in range(3)]
    assert not list((tmp_path / "out").glob(".*"))  # no partial files left


def test_console_backend_prints_the_text(settings, capsys):
    ConsoleBackend().deliver(build_message(settings, "dev@example.com", MAIL))
    err = capsys.readouterr().err
    assert "dev@example.com" in err and "Plain body 123456" in err


def test_mailer_picks_the_backend(settings):
    assert isinstance(Mailer(settings).backend, FileBackend)


def test_templates_render_both_parts_with_subject(app):
    with app.test_request_context():
        mail = render_mail("password_reset", email="a@example.com", code="654321",
                           link="http://127.0.0.1:5000/password/reset?flow=f&code=654321",
                           minutes=15)
    assert mail.subject == "Your password reset code: 654321"
    assert "654321" in mail.text and "15 minutes" in mail.text
    assert 'href="http://127.0.0.1:5000/password/reset?flow=f&amp;code=654321"' in mail.html


def test_issuer_url_ignores_the_request_host(custom_app):
    app = custom_app(issuer="https://id.example.com/auth")
    with app.test_request_context("/", base_url="http://evil.test/"):
        url = issuer_url(frontdesk_state(app).settings, "hosted.password_reset", flow="f", code="1")
    assert url == "https://id.example.com/auth/password/reset?flow=f&code=1"
