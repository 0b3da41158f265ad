"""Signing keys: generation, rotation and the per-process key ring.

Rotation order (publish, then sign): every algorithm keeps one `next` key that JWKS already
publishes. `rotate_keys` promotes `next` to `active`, retires the old active key (still
published, so tokens it signed keep verifying until they expire) and creates a new `next`.
All processes read the same rows, so they all sign with the same active key; each process
reloads its ring at most every RELOAD_SECONDS, never per request.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import timedelta

from joserfc.jwk import ECKey, KeySet, RSAKey

from app.extensions import db
from app.models import SigningKey
from app.models._types import new_token, utcnow
from app.secretbox import seal, unseal

SUPPORTED_ALGS = ("RS256", "ES256")
PURPOSE = "signing-key"
RELOAD_SECONDS = 30


def _generate_jwk(alg: str, kid: str) -> RSAKey | ECKey:
    params = {"kid": kid, "alg": alg, "use": "sig"}
    if alg == "RS256":
        return RSAKey.generate_key(2048, parameters=params)
    if alg == "ES256":
        return ECKey.generate_key("P-256", parameters=params)
    raise ValueError(f"unsupported signing algorithm {alg}")


def create_signing_key(secret_key: str, alg: str, state: str) -> SigningKey:
    kid = new_token(12)
    jwk = _generate_jwk(alg, kid)
    row = SigningKey(
        kid=kid, alg=alg, state=state,
        private_jwk=seal(secret_key, PURPOSE, json.dumps(jwk.as_dict(private=True))),
        public_jwk=json.dumps(jwk.as_dict(private=False)),
        activated_at=utcnow() if state == "active" else None)
    db.session.add(row)
    return row


def ensure_signing_keys(secret_key: str) -> bool:
    """Create the first active and next key of each algorithm; True if any was made."""
    made = False
    for alg in SUPPORTED_ALGS:
        states = set(db.session.scalars(
            db.select(SigningKey.state).where(SigningKey.alg == alg)))
        for state in ("active", "next"):
            if state not in states:
                create_signing_key(secret_key, alg, state)
                made = True
    if made:
        db.session.commit()
    return made


def rotate_keys(secret_key: str, keep_retired_seconds: int) -> list[SigningKey]:
    """Promote next -> active, active -> retired, make a new next; drop expired retirees.

    `keep_retired_seconds` is the longest lifetime of a token a retired key may have signed.
    """
    ensure_signing_keys(secret_key)
    now = utcnow()
    promoted = []
    for alg in SUPPORTED_ALGS:
        rows = db.session.scalars(db.select(SigningKey).where(SigningKey.alg == alg)).all()
        for row in rows:
            if row.state == "active":
                row.state, row.retired_at = "retired", now
            elif row.state == "next":
                row.state, row.activated_at = "active", now
                promoted.append(row)
            elif row.retired_at and row.retired_at < now - timedelta(seconds=keep_retired_seconds):
                db.session.delete(row)
        create_signing_key(secret_key, alg, "next")
    db.session.commit()
    return promoted


@dataclass
class KeyRing:
    """Keys loaded once per process (loading an RSA key costs ~40 ms)."""

    secret_key: str
    signing: dict[str, RSAKey | ECKey] = field(default_factory=dict)  # alg -> active key
    verification: KeySet | None = None
    jwks_bytes: bytes = b'{"keys":[]}'
    jwks_etag: str = ""
    loaded_at: float = 0.0
    _private_cache: dict[str, RSAKey | ECKey] = field(default_factory=dict)

    def reload(self) -> None:
        rows = db.session.scalars(db.select(SigningKey).order_by(SigningKey.created_at)).all()
        public = [json.loads(r.public_jwk) for r in rows]
        signing = {}
        for row in rows:
            if row.state == "active":
                signing[row.alg] = self._private(row)
        self.signing = signing
        self.verification = KeySet.import_key_set({"keys": public})
        self.jwks_bytes = json.dumps({"keys": public}, separators=(",", ":")).encode()
        self.jwks_etag = '"' + hashlib.sha256(self.jwks_bytes).hexdigest()[:32] + '"'
        self.loaded_at = time.monotonic()

    def _private(self, row: SigningKey) -> RSAKey | ECKey:
        key = self._private_cache.get(row.kid)
        if key is None:
            data = json.loads(unseal(self.secret_key, PURPOSE, row.private_jwk))
            key = (RSAKey if row.alg == "RS256" else ECKey).import_key(data)
            self._private_cache[row.kid] = key
        return key

    def refresh_if_stale(self) -> None:
        if time.monotonic() - self.loaded_at > RELOAD_SECONDS:
            self.reload()

    def signing_key(self, alg: str = "RS256") -> RSAKey | ECKey:
        self.refresh_if_stale()
        return self.signing[alg]

    def verification_keys(self) -> KeySet:
        self.refresh_if_stale()
        return self.verification
