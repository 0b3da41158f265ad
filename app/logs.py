"""Log redaction: secrets never reach the logs, whatever a handler formats."""

from __future__ import annotations

import logging
import re

from flask import Flask

SECRET_PARAM = re.compile(
    r"(?i)\b(code|[a-z_]*_token|token|password|[a-z_]*password|client_secret|secret|"
    r"client_assertion)(=|\"?\s*:\s*\"?)([^&\s\"',]+)")


def redact(text: str) -> str:
    return SECRET_PARAM.sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", text)


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def install_log_redaction(app: Flask) -> None:
    redactor = RedactingFilter()
    for logger in (app.logger, logging.getLogger("werkzeug"), logging.getLogger("gunicorn.access")):
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(redactor)
