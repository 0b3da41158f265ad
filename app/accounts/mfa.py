"""TOTP multi-factor authentication. The secret is stored sealed (app.secretbox)."""

from __future__ import annotations

import base64
import binascii
import hmac
import time
from datetime import UTC, datetime

import pyotp

from app.accounts.recovery_codes import generate_recovery_codes
from app.config import Settings
from app.models import User
from app.secretbox import seal, unseal
from app.store import Store

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


# --- enrolment and verification ----------------------------------------------------------

TOTP_DIGITS = 6
TOTP_WINDOW = 1  # accept the previous and the next 30 s step (clock drift)
LAST_STEP_TTL_SECONDS = 300


def new_totp_secret() -> str:
    """160 random bits, base32 (RFC 4226 §4 recommends at least 128, 160 preferred)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, email: str, issuer_name: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer_name)


def matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step (RFC 6238 §4) whose code this is, within the drift window."""
    code = "".join(ch for ch in (code or "") if ch.isdigit())
    if len(code) != TOTP_DIGITS:
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(datetime.fromtimestamp(now if now is not None else time.time(),
                                                   tz=UTC))
    for step in (current, current - TOTP_WINDOW, current + TOTP_WINDOW):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def verify_totp(store: Store, secret: str, user_id: str, code: str,
                now: float | None = None) -> bool:
    """A valid code from a time step later than the last one used (RFC 6238 §5.2: no replay)."""
    step = matching_step(secret, code, now)
    if step is None:
        return False
    last = store.get(f"totp_last:{user_id}")
    if last is not None and step <= int(last):
        return False
    if not store.add(f"totp_used:{user_id}:{step}", "1", LAST_STEP_TTL_SECONDS):
        return False  # a concurrent request used this step
    store.set(f"totp_last:{user_id}", str(step), LAST_STEP_TTL_SECONDS)
    return True


def enable_totp(settings: Settings, user: User, secret: str) -> list[str]:
    """Turn MFA on with a confirmed secret; returns the new recovery codes (shown once)."""
    store_totp_secret(settings, user, secret, enabled=True)
    return generate_recovery_codes(user)


def disable_totp(user: User) -> None:
    user.totp_secret = None
    user.totp_enabled = False
    user.recovery_code_hashes = []
