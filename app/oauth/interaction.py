"""The interaction boundary between the protocol and the hosted pages.

`/oauth2/authorize` validates a request, parks it here under a random interaction id bound to
the browser, and sends the user to a hosted page (`/login?interaction=<id>`, `/consent?...`).
The page ends the interaction with `finish(id, result)` or `abort(id, error)`, each returning
the URL to send the browser to: `/oauth2/authorize/resume/<id>`, where the protocol alone
decides what comes next and issues the code. Login, MFA, consent and federation all use this.

`conclude(id, outcome)` is finish/abort followed by that resume in the same request: the
protocol's own resume (app.oauth.authorize) decides and answers, so the browser goes straight
to the client (or the next page) with one redirect fewer. The hosted login, MFA, sign-up,
consent and federated-login pages end this way; a redirect costs the user a network round
trip.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from flask import Response, session, url_for

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


@dataclass(frozen=True)
class LoginResult:
    """The user authenticated: who, how (RFC 8176 amr values) and when."""

    sub: str
    amr: list[str]
    auth_time: int
    acr: str | None = None


@dataclass(frozen=True)
class ConsentResult:
    """The user allowed these scopes for the client."""

    scopes: list[str]


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


@dataclass(frozen=True)
class Denial:
    """The interaction ends with an OAuth error for the client (e.g. the user said no)."""

    error: str = "access_denied"
    description: str | None = None


def _recorded(interaction_id: str, outcome: LoginResult | ConsentResult | Denial,
              loaded: Interaction | None) -> Interaction | None:
    """The interaction with the page's outcome set on it (not saved); None if gone."""
    interaction = loaded if loaded is not None and loaded.id == interaction_id else \
        load_interaction(interaction_id)
    if interaction is None:
        return None
    if isinstance(outcome, LoginResult):
        interaction.login = asdict(outcome)
    elif isinstance(outcome, ConsentResult):
        interaction.consent = asdict(outcome)
    else:
        interaction.error = {"error": outcome.error,
                             "error_description": outcome.description or ""}
    return interaction


def finish(interaction_id: str, result: LoginResult | ConsentResult,
           loaded: Interaction | None = None) -> str | None:
    """Record what the page achieved; returns where to send the browser (None if gone).
    `loaded`: the same interaction, already loaded by this request (saves a store read)."""
    interaction = _recorded(interaction_id, result, loaded)
    if interaction is None:
        return None
    save_interaction(interaction)
    return resume_url(interaction_id)


def abort(interaction_id: str, error: str = "access_denied",
          description: str | None = None) -> str | None:
    """End the interaction with an OAuth error for the client (e.g. the user said no)."""
    interaction = _recorded(interaction_id, Denial(error, description), None)
    if interaction is None:
        return None
    save_interaction(interaction)
    return resume_url(interaction_id)


def conclude(interaction_id: str, outcome: LoginResult | ConsentResult | Denial,
             loaded: Interaction | None = None) -> Response | None:
    """finish() or abort(), then the protocol's resume in this request; returns its answer
    (None if the interaction is gone). Nothing is saved here: the resume discards the
    interaction when it issues the code, and saves it when it asks for another page."""
    from app.oauth.authorize import answer, resume_interaction  # the protocol's half

    interaction = _recorded(interaction_id, outcome, loaded)
    return None if interaction is None else answer(lambda: resume_interaction(interaction))
