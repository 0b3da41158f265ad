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

This module is the only way hosted pages and federation reach the protocol (the
import-linter contracts in pyproject.toml hold them to it): what they need of it is here,
`end_everything` (sign a user out of every browser and app) included. The parked requests
themselves are kept by app.oauth.parked.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from flask import Response

from app.oauth.authorize import answer, resume_interaction
from app.oauth.logout import end_everything
from app.oauth.parked import (
    KEY_PREFIX,
    Interaction,
    load_interaction,
    resume_url,
    save_interaction,
)

__all__ = ["KEY_PREFIX", "ConsentResult", "Denial", "Interaction", "LoginResult", "abort",
           "conclude", "end_everything", "finish", "load_interaction"]


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
    interaction = _recorded(interaction_id, outcome, loaded)
    return None if interaction is None else answer(lambda: resume_interaction(interaction))
