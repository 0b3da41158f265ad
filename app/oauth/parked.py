"""Parked authorization requests: the store half of the interaction boundary.

`/oauth2/authorize` parks a validated request here under a random id, bound to the browser
that made it (a hash of a random key in its session), for settings.interaction_seconds. The
hosted pages reach these through app.oauth.interaction; the authorization endpoint
(app.oauth.authorize) parks, reloads and discards them.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from flask import session, url_for

from app.extensions import frontdesk_state
from app.store import Store

KEY_PREFIX = "ix:"
BROWSER_KEY = "browser_key"
RESUME_ENDPOINT = "oauth.authorize_resume"


@dataclass
class Interaction:
    """A parked authorization request, as the hosted pages see it."""

    id: str
    client_id: str
    client_name: str
    client_logo_url: str | None
    scopes: list[str]
    stage: str  # "login" | "consent": what the protocol asks the pages for
    params: dict[str, str]  # the authorization request as received
    browser: str  # hash of the browser's binding key
    prompt: list[str] = field(default_factory=list)
    login_hint: str | None = None
    ui_locales: list[str] = field(default_factory=list)
    max_age: int | None = None
    client_theme: str | None = None  # the client's theme when the request was parked
    login: dict[str, Any] | None = None  # LoginResult as a dict, once finished
    consent: dict[str, Any] | None = None  # ConsentResult as a dict, once finished
    error: dict[str, str] | None = None  # set by abort()
    created_at: float = field(default_factory=time.time)


def _browser_hash() -> str:
    key = session.get(BROWSER_KEY)
    if not key:
        key = session[BROWSER_KEY] = secrets.token_urlsafe(24)
    return hashlib.sha256(key.encode()).hexdigest()


def _ttl() -> int:
    return frontdesk_state().settings.interaction_seconds


def park_interaction(**fields: Any) -> Interaction:
    """Store a new interaction bound to this browser (protocol side)."""
    interaction = Interaction(id=secrets.token_urlsafe(24), browser=_browser_hash(), **fields)
    save_interaction(interaction)
    return interaction


def save_interaction(interaction: Interaction) -> None:
    # vars(), not asdict(): the fields are JSON values already and are encoded at once
    frontdesk_state().store.set_json(KEY_PREFIX + interaction.id, vars(interaction), _ttl())


def load_interaction(interaction_id: str | None) -> Interaction | None:
    """The interaction, or None when unknown, expired or parked by another browser."""
    if not interaction_id or len(interaction_id) > 64:
        return None
    data = frontdesk_state().store.get_json(KEY_PREFIX + interaction_id)
    if not data:
        return None
    interaction = Interaction(**data)
    if not secrets.compare_digest(interaction.browser, _browser_hash()):
        return None
    return interaction


def discard_interaction(interaction_id: str, store: Store | None = None) -> None:
    (store or frontdesk_state().store).delete(KEY_PREFIX + interaction_id)


def resume_url(interaction_id: str) -> str:
    return url_for(RESUME_ENDPOINT, interaction_id=interaction_id)
