"""Outgoing mail: backends smtp | console | file, every message a text + HTML pair.

Templates live in `templates/mail/<name>.txt` and `.html`; the `.txt` one sets the subject with
`{% set subject %}...{% endset %}`. Themes shadow them like any page. The hosted pages put the
Jinja environment of the current theme on `g.fd_jinja_env`, so a client's theme restyles its
mails too. Every link in a mail is built from the configured issuer (`issuer_url`), never from
the request's Host or X-Forwarded-* headers.
"""

from __future__ import annotations

import logging
import os
import secrets
import smtplib
import ssl
import sys
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, current_app, g
from jinja2 import Environment

from app.config import Settings
from app.extensions import frontdesk_state

logger = logging.getLogger("frontdesk.mail")


class MailError(RuntimeError):
    """The message could not be handed to the backend."""


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


def _environment() -> Environment:
    return g.get("fd_jinja_env") or current_app.jinja_env


def render_mail(name: str, **context) -> RenderedMail:
    """Render `mail/<name>.txt` (with its `subject`) and `mail/<name>.html`."""
    env = _environment()
    current_app.update_template_context(context)
    text_module = env.get_template(f"mail/{name}.txt").make_module(context)
    html = env.get_template(f"mail/{name}.html").render(context)
    subject = " ".join(str(getattr(text_module, "subject", "")).split())
    return RenderedMail(subject=subject, text=str(text_module).strip() + "\n", html=html)


def issuer_url(settings: Settings, endpoint: str, **values) -> str:
    """An absolute URL on the configured issuer (the only base a mail link may have)."""
    base = urlsplit(settings.issuer)
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/",
                                       url_scheme=base.scheme)
    values = {k: v for k, v in values.items() if v is not None}
    return adapter.build(endpoint, values, force_external=True)


def build_message(settings: Settings, to: str, mail: RenderedMail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=urlsplit(settings.issuer).hostname or "localhost")
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    return message


class SMTPBackend:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.smtp_ssl:
            return smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds,
                                    context=ssl.create_default_context())
        return smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds)

    def deliver(self, message: EmailMessage) -> None:
        with self._connect() as smtp:
            if self.settings.smtp_starttls and not self.settings.smtp_ssl:
                smtp.starttls(context=ssl.create_default_context())
            if self.settings.smtp_username:
                smtp.login(self.settings.smtp_username, self.settings.smtp_password)
            smtp.send_message(message)


class ConsoleBackend:
    """Development: the text part on stderr (codes included: never use it in production)."""

    def deliver(self, message: EmailMessage) -> None:
        text = message.get_body(("plain",)).get_content()
        sys.stderr.write(f"----- mail to {message['To']}: {message['Subject']}\n{text}-----\n")
        sys.stderr.flush()


class FileBackend:
    """One .eml file per message in the outbox folder (tests, staging)."""

    def __init__(self, outbox: str) -> None:
        self.outbox = Path(outbox)

    def deliver(self, message: EmailMessage) -> None:
        self.outbox.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns():020d}-{secrets.token_hex(4)}.eml"
        partial = self.outbox / f".{name}.part"
        partial.write_bytes(message.as_bytes())
        os.replace(partial, self.outbox / name)


class Mailer:
    """Builds and hands over messages; one per app (frontdesk_state().mailer)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.backend = {
            "smtp": lambda: SMTPBackend(settings),
            "console": ConsoleBackend,
            "file": lambda: FileBackend(settings.mail_outbox),
        }[settings.mail_backend]()

    def send(self, to: str, mail: RenderedMail) -> None:
        message = build_message(self.settings, to, mail)
        try:
            self.backend.deliver(message)
        except (smtplib.SMTPException, OSError) as exc:
            raise MailError(f"{self.settings.mail_backend}: {exc.__class__.__name__}") from None


def init_app(app: Flask) -> None:
    state = frontdesk_state(app)
    if state.mailer is None:
        state.mailer = Mailer(state.settings)
