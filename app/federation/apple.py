"""Sign in with Apple: the ES256 client secret, the `user` form field, Apple's claim quirks.

Apple has no client secret to copy: the client authenticates with a JWT it signs itself
(ES256, header kid = key id; iss = team id, sub = Services ID, aud = Apple's issuer, exp at
most six months ahead). Apple posts the authorization response (response_mode=form_post),
sends the user's name only on the first authorization, in the unsigned `user` form field,
and writes booleans in its ID token as strings ("true"). The e-mail may be a private relay
address (`...@privaterelay.appleid.com`) that forwards to the user's real mailbox.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

NAME = "apple"
LABEL = "Apple"  # the login page shows "Continue with Apple", a title Apple's guidelines allow
DEFAULT_MAPPING = {"name": "name", "given_name": "given_name", "family_name": "family_name"}
PRIVATE_RELAY_DOMAIN = "privaterelay.appleid.com"
MAX_SECRET_SECONDS = 15777000  # Apple rejects client secrets valid for more than 6 months
MIN_SECRET_SECONDS = 300


class AppleKeyError(ValueError):
    """The .p8 key cannot be used to sign Apple client secrets."""


def load_private_key(path: str) -> ECKey:
    """Read the .p8 key (PKCS#8 PEM, P-256) downloaded from Apple's developer site."""
    try:
        pem = Path(path).read_bytes()
    except OSError as exc:
        raise AppleKeyError(f"cannot read {path}: {exc.strerror}") from None
    try:
        key = ECKey.import_key(pem)
    except (JoseError, ValueError, TypeError):
        raise AppleKeyError(f"{path} is not an EC private key in PEM form") from None
    if key.curve_name != "P-256" or not key.is_private:
        raise AppleKeyError(f"{path} must hold a P-256 private key")
    return key


def make_client_secret(*, team_id: str, key_id: str, client_id: str, audience: str,
                       key: ECKey, issued_at: int, lifetime_seconds: int) -> str:
    """The ES256 JWT Apple's token endpoint takes as client_secret."""
    header = {"alg": "ES256", "kid": key_id}
    claims = {"iss": team_id, "iat": issued_at, "exp": issued_at + lifetime_seconds,
              "aud": audience, "sub": client_id}
    return jwt.encode(header, claims, key, algorithms=["ES256"])


@dataclass
class AppleClientSecret:
    """The current client secret of one process, re-signed before it expires."""

    team_id: str
    key_id: str
    client_id: str
    audience: str
    key: ECKey
    lifetime_seconds: int
    _value: str = ""
    _expires_at: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def refresh_margin_seconds(self) -> int:
        """Renew when less than a tenth of the lifetime (at least a minute) is left."""
        return max(60, self.lifetime_seconds // 10)

    def current(self, now: int | None = None) -> str:
        now = int(time.time()) if now is None else now
        with self._lock:
            if not self._value or self._expires_at - now <= self.refresh_margin_seconds:
                self._value = make_client_secret(
                    team_id=self.team_id, key_id=self.key_id, client_id=self.client_id,
                    audience=self.audience, key=self.key, issued_at=now,
                    lifetime_seconds=self.lifetime_seconds)
                self._expires_at = now + self.lifetime_seconds
            return self._value


def parse_user_field(raw: str | None) -> dict[str, str]:
    """Names from Apple's `user` form field (first authorization only).

    The field is not signed: only the name is taken from it, never the e-mail, which comes
    from the validated ID token alone.
    """
    if not raw or len(raw) > 4096:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    name = data.get("name") if isinstance(data, dict) else None
    if not isinstance(name, dict):
        return {}
    given = _clean_name(name.get("firstName"))
    family = _clean_name(name.get("lastName"))
    claims = {k: v for k, v in (("given_name", given), ("family_name", family)) if v}
    full = " ".join(p for p in (given, family) if p)
    if full:
        claims["name"] = full
    return claims


def _clean_name(value: Any) -> str:
    return value.strip()[:100] if isinstance(value, str) else ""


def normalize_claims(claims: dict[str, Any], user_field: dict[str, str]) -> dict[str, Any]:
    """Apple's claims with real booleans and the first-authorization name merged in."""
    result = dict(claims)
    for name in ("email_verified", "is_private_email"):
        if name in result:
            result[name] = as_bool(result[name])
    email = str(result.get("email") or "")
    if email.lower().endswith("@" + PRIVATE_RELAY_DOMAIN):
        result["is_private_email"] = True
    for name, value in user_field.items():
        result.setdefault(name, value)
    return result


def as_bool(value: Any) -> bool:
    """Apple sends "true"/"false" strings where other providers send JSON booleans."""
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().lower() == "true"
