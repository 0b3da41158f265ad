"""Account mails: render the pair, let the custom_message trigger rewrite it, send it.

A mail that cannot be sent is logged (never with its code) and the flow goes on: the page
says the same thing either way, and the user can ask for a new code.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from app.extensions import frontdesk_state
from app.mail import MailError, render_mail
from app.triggers import run_trigger

logger = logging.getLogger("frontdesk.accounts")


def send_account_mail(name: str, to: str, *, code: str | None = None,
                      link: str | None = None, **context) -> bool:
    """Send mail `name` to `to`; False when it could not be sent."""
    mail = render_mail(name, email=to, code=code, link=link, **context)
    custom = run_trigger("custom_message", {
        "message": name, "email": to, "subject": mail.subject, "text": mail.text,
        "html": mail.html, "code": code, "link": link}) or {}
    overrides = {k: custom[k] for k in ("subject", "text", "html")
                 if isinstance(custom.get(k), str)}
    if overrides:
        mail = replace(mail, **overrides)
    try:
        frontdesk_state().mailer.send(to, mail)
    except MailError as exc:
        logger.error("mail %s could not be sent: %s", name, exc)
        return False
    return True
