"""Secrets never reach the logs."""

from __future__ import annotations

import io
import logging

import pytest

from app.logs import RedactingFilter, install_log_redaction, redact

CASES = [
    ('"GET /demo/callback?code=SECRETCODE&state=abc HTTP/1.1" 302',
     '"GET /demo/callback?code=[redacted]&state=abc HTTP/1.1" 302'),
    ("grant_type=refresh_token&refresh_token=SECRETRT&client_secret=SECRETCS",
     "grant_type=refresh_token&refresh_token=[redacted]&client_secret=[redacted]"),
    ('{"password": "SECRETPW", "email": "a@example.com"}',
     '{"password": "[redacted]", "email": "a@example.com"}'),
    ("/oauth2/logout?id_token_hint=eyJSECRET.x.y&post_logout_redirect_uri=http://a/b",
     "/oauth2/logout?id_token_hint=[redacted]&post_logout_redirect_uri=http://a/b"),
    ("code_verifier=SECRETVERIFIER&client_assertion=SECRETJWT",
     "code_verifier=[redacted]&client_assertion=[redacted]"),
    ("Authorization: Bearer SECRETACCESS.token-value", "Authorization: Bearer [redacted]"),
    ("Authorization: Basic Y2xpZW50OnNlY3JldA==", "Authorization: Basic [redacted]"),
    ("new_password='SECRETNEW', access_token: SECRETAT",
     "new_password='[redacted]', access_token: [redacted]"),
]


@pytest.mark.parametrize(("raw", "expected"), CASES)
def test_redact(raw, expected):
    assert redact(raw) == expected
    assert "SECRET" not in redact(raw)


@pytest.mark.parametrize("harmless", [
    "/oauth2/authorize?response_type=code&client_id=abc&code_challenge=xyz&state=s",
    "GET /healthz HTTP/1.1 200", "user a@example.com signed in",
])
def test_harmless_text_is_kept(harmless):
    assert redact(harmless) == harmless


def test_every_logger_is_redacted_once_installed(app):
    install_log_redaction(app)
    install_log_redaction(app)  # idempotent: one wrapper, not two
    factory = logging.getLogRecordFactory()
    assert getattr(factory, "frontdesk_redacts", False)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    for name in ("werkzeug", "gunicorn.access", "app.oauth.something", "some.library"):
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        try:
            logger.info("%s %s", "POST /oauth2/token", "code=SECRET1&client_secret=SECRET2")
        finally:
            logger.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 4
    assert all("code=[redacted]&client_secret=[redacted]" in line for line in lines)
    assert "SECRET" not in stream.getvalue()


def test_filter_for_foreign_handlers():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "password=%s", ("hunter2",), None)
    assert RedactingFilter().filter(record) is True
    assert record.getMessage() == "password=[redacted]"


def test_broken_format_is_left_to_logging():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%d items", ("many",), None)
    assert RedactingFilter().filter(record) is True
    assert record.msg == "%d items"
