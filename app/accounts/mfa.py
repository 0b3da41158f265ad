"""TOTP multi-factor authentication. The secret is stored sealed (app.secretbox)."""

from __future__ import annotations

import base64
import binascii

from app.config import Settings
from app.models import User
from app.secretbox import seal, unseal

TOTP_PURPOSE = "totp"


def validate_totp_secret(secret: str) -> str:
    """A base32 secret of at least 128 bits."""
    cleaned = secret.replace(" ", "").upper()
    try:
        raw = base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except (binascii.Error, ValueError):
        raise ValueError("the TOTP secret must be base32") from None
    if len(raw) < 16:
        raise ValueError("the TOTP secret must be at least 128 bits (26 base32 characters)")
    return cleaned


def store_totp_secret(settings: Settings, user: User, secret: str, *, enabled: bool) -> None:
    user.totp_secret = seal(settings.secret_key, TOTP_PURPOSE, validate_totp_secret(secret))
    user.totp_enabled = enabled


def read_totp_secret(settings: Settings, user: User) -> str | None:
    if not user.totp_secret:
        return None
    return unseal(settings.secret_key, TOTP_PURPOSE, user.totp_secret)
