"""Remembered consent: a user allows a client a set of scopes once (OIDC Core §3.1.2.4)."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Consent, record_event


def find_consent(user_id: str, client_id: str) -> Consent | None:
    return db.session.scalar(select(Consent).where(Consent.user_id == user_id,
                                                   Consent.client_id == client_id))


def consent_covers(user_id: str, client_id: str, scopes: list[str]) -> bool:
    """Has the user already allowed every one of `scopes` to this client?"""
    consent = find_consent(user_id, client_id)
    return consent is not None and consent.covers(scopes)


def remember_consent(user_id: str, client_id: str, scopes: list[str]) -> None:
    """Add `scopes` to what the user allowed this client, and commit."""
    consent = find_consent(user_id, client_id)
    if consent is None:
        consent = Consent(user_id=user_id, client_id=client_id, scope="")
        db.session.add(consent)
    consent.scope = " ".join(sorted(consent.scopes | set(scopes)))
    record_event("consent_granted", user_id=user_id, client_id=client_id,
                 scope=" ".join(scopes))
    db.session.commit()
