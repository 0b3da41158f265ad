"""GitHub as a plain OAuth 2.0 upstream: the user from `/user`, the e-mail from `/user/emails`.

`/user` shows only the public e-mail, which the user may leave empty or set to any address
they verified once; `/user/emails` (scope `user:email`) lists every address with `primary`
and `verified`. Frontdesk takes the primary address, verified only when GitHub says so.
GitHub answers token errors with status 200 and an `error` field (app/federation/token.py).
"""

from __future__ import annotations

from typing import Any

NAME = "github"
LABEL = "GitHub"
AUTHORIZE_URL = "https://github.com/login/oauth/authorize"
TOKEN_URL = "https://github.com/login/oauth/access_token"  # noqa: S105 - a URL
USERINFO_URL = "https://api.github.com/user"
EMAILS_URL = "https://api.github.com/user/emails"
SCOPES = "read:user user:email"
DEFAULT_MAPPING = {"name": "name", "login": "github_login"}


def primary_email(emails: Any) -> tuple[str | None, bool]:
    """(address, verified) of the primary entry of a `/user/emails` answer."""
    if not isinstance(emails, list):
        return None, False
    for entry in emails:
        if isinstance(entry, dict) and entry.get("primary") is True \
                and isinstance(entry.get("email"), str):
            return entry["email"], entry.get("verified") is True
    return None, False
