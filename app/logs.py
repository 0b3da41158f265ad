"""Log redaction: secrets never reach the logs, whatever logger or handler formats them.

Redaction happens where records are made (the logging record factory), so it covers the
access logs of werkzeug and gunicorn, the app's own loggers and every library alike, and
whatever handlers get configured later (Alembic's fileConfig, gunicorn's).
"""

from __future__ import annotations

import logging
import re

from flask import Flask

SENSITIVE_NAMES = r"[a-z_]*(?:token|password|secret|assertion|verifier)[a-z_]*|code"
SECRET_PARAM = re.compile(
    rf"(?i)\b({SENSITIVE_NAMES})([\"']?\s*[=:]\s*[\"']?)([^&\s\"',;]+)")
SECRET_HEADER = re.compile(r"(?i)\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """Hide the values of secret-looking parameters (code=..., "password": ...)."""
    text = SECRET_PARAM.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    return SECRET_HEADER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Replace the record's message by its redacted rendering (only when it changes)."""
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a broken format is logging's problem, not ours
        return record
    cleaned = redact(message)
    if cleaned != message:
        record.msg, record.args = cleaned, ()
    return record


class RedactingFilter(logging.Filter):
    """For handlers configured outside this process's record factory (kept for callers)."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


def _redacting_factory(previous):
    def factory(*args, **kwargs):
        return redact_record(previous(*args, **kwargs))

    factory.frontdesk_redacts = True
    return factory


def install_log_redaction(app: Flask) -> None:
    """Install the redacting record factory once per process (idempotent)."""
    current = logging.getLogRecordFactory()
    if not getattr(current, "frontdesk_redacts", False):
        logging.setLogRecordFactory(_redacting_factory(current))
