"""Password policy: minimum length, required character classes, and no common passwords.

The common-password list ships in the package (app/data/common-passwords.txt.gz, see NOTICE).
Violations are returned as codes; the hosted pages turn them into translated messages.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from app.config import Settings

COMMON_PASSWORDS_PATH = Path(__file__).resolve().parent.parent / "data" / "common-passwords.txt.gz"
MAX_PASSWORD_LENGTH = 256  # argon2 does not care, but nobody types more; bounds the work
CHARACTER_CLASSES = {
    "lower": str.islower,
    "upper": str.isupper,
    "digit": str.isdigit,
    "symbol": lambda c: not c.isalnum() and not c.isspace(),
}


@dataclass(frozen=True)
class PolicyViolation:
    """One broken rule: `rule` is too_short | too_long | missing_<class> | common | is_email."""

    rule: str
    value: int | None = None


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS_PATH, "rt", encoding="utf-8") as handle:
        return frozenset(line.strip().lower() for line in handle if line.strip())


def required_classes(settings: Settings) -> list[str]:
    return [c for c in settings.csv("password_require") if c in CHARACTER_CLASSES]


def check_password(settings: Settings, password: str,
                   email: str | None = None) -> list[PolicyViolation]:
    """Every rule the password breaks (empty list: acceptable)."""
    violations: list[PolicyViolation] = []
    if len(password) < settings.password_min_length:
        violations.append(PolicyViolation("too_short", settings.password_min_length))
    if len(password) > MAX_PASSWORD_LENGTH:
        violations.append(PolicyViolation("too_long", MAX_PASSWORD_LENGTH))
    for name in required_classes(settings):
        if not any(CHARACTER_CLASSES[name](c) for c in password):
            violations.append(PolicyViolation(f"missing_{name}"))
    lowered = password.strip().lower()
    if lowered in common_passwords():
        violations.append(PolicyViolation("common"))
    if email and lowered in {email.lower(), email.lower().partition("@")[0]}:
        violations.append(PolicyViolation("is_email"))
    return violations
