"""Signing keys: generation, rotation and the per-process key ring.

Rotation order (publish, then sign): every algorithm keeps one `next` key that JWKS already
publishes. `rotate_keys` promotes `next` to `active`, retires the old active key (still
published, so tokens it signed keep verifying until they expire) and creates a new `next`.

Every process reads the same rows and picks its signing key with the same rule
(`choose_signing_row`), so all processes sign with the same key. A key signs only once it
has been published for PUBLISH_SECONDS (a ring reload plus the JWKS cache lifetime): until
then the previous key keeps signing, so no relying party ever sees a `kid` missing from
a JWKS document it may have cached. Each process reloads its ring at most every
RELOAD_SECONDS, never per request.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from joserfc.jwk import ECKey, KeySet, RSAKey

from app.extensions import db
from app.models import SigningKey
from app.models._types import new_token, utcnow
from app.secretbox import seal, unseal

SUPPORTED_ALGS = ("RS256", "ES256")
PURPOSE = "signing-key"
RELOAD_SECONDS = 30
JWKS_MAX_AGE_SECONDS = 300  # Cache-Control max-age of /.well-known/jwks.json
PUBLISH_SECONDS = RELOAD_SECONDS + JWKS_MAX_AGE_SECONDS


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
    # A retired key may go on signing for PUBLISH_SECONDS after its retirement.
    keep = timedelta(seconds=keep_retired_seconds + PUBLISH_SECONDS)
    promoted = []
    for alg in SUPPORTED_ALGS:
        rows = db.session.scalars(db.select(SigningKey).where(SigningKey.alg == alg)).all()
        for row in rows:
            if row.state == "active":
                row.state, row.retired_at = "retired", now
            elif row.state == "next":
                row.state, row.activated_at = "active", now
                promoted.append(row)
            elif row.state == "retired" and row.retired_at and row.retired_at < now - keep:
                db.session.delete(row)
        create_signing_key(secret_key, alg, "next")
    db.session.commit()
    return promoted


def choose_signing_row(rows: list[SigningKey], alg: str, now: datetime) -> SigningKey | None:
    """The key that signs for `alg`: the newest active key published for PUBLISH_SECONDS,
    else the most recently retired key that was (it signed until the rotation), else, on a
    fresh install where nothing is old enough, the newest active key."""
    published_before = now - timedelta(seconds=PUBLISH_SECONDS)

    def newest(candidates):
        return max(candidates, key=lambda r: (r.activated_at or r.created_at, r.kid), default=None)

    of_alg = [r for r in rows if r.alg == alg]
    active = [r for r in of_alg if r.state == "active"]
    ready = newest([r for r in active if r.created_at <= published_before])
    if ready is not None:
        return ready
    retired = newest([r for r in of_alg if r.state == "retired" and r.activated_at
                      and r.created_at <= published_before])
    return retired or newest(active)


@dataclass(frozen=True)
class _RingState:
    signing: dict[str, RSAKey | ECKey]
    verification: KeySet
    verifiers: dict[str, RSAKey | ECKey]  # kid -> published key, imported once per load
    jwks_bytes: bytes
    jwks_etag: str
    #: token -> its decoded header and payload JSON, for tokens whose signature one of
    #: these verifiers accepted (app.oauth.signing): it dies with this load of the keys.
    verified: dict[str, tuple[bytes, bytes]] = field(default_factory=dict)


@dataclass
class KeyRing:
    """Keys loaded once per process (loading an RSA key costs ~40 ms).

    The loaded state is swapped in one assignment, so a request never sees the signing
    keys of one load with the verification keys of another.
    """

    secret_key: str
    loaded_at: float = 0.0
    _state: _RingState | None = None
    _private_cache: dict[str, RSAKey | ECKey] = field(default_factory=dict)

    def reload(self) -> None:
        rows = self._rows()
        public = [json.loads(r.public_jwk) for r in rows]
        now = utcnow()
        signing = {}
        for alg in SUPPORTED_ALGS:
            row = choose_signing_row(rows, alg, now)
            if row is not None:
                signing[alg] = self._private(row)
        self._private_cache = {k: v for k, v in self._private_cache.items()
                               if any(r.kid == k for r in rows)}
        jwks_bytes = json.dumps({"keys": public}, separators=(",", ":")).encode()
        verification = KeySet.import_key_set({"keys": public})
        self._state = _RingState(
            signing=signing, verification=verification,
            verifiers={key.kid: key for key in verification.keys},
            jwks_bytes=jwks_bytes,
            jwks_etag='"' + hashlib.sha256(jwks_bytes).hexdigest()[:32] + '"')
        self.loaded_at = time.monotonic()

    def _rows(self) -> list[SigningKey]:
        rows = db.session.scalars(db.select(SigningKey).order_by(SigningKey.created_at)).all()
        if not any(r.state == "active" for r in rows) or \
                {r.alg for r in rows if r.state == "active"} != set(SUPPORTED_ALGS):
            # A database migrated without `frontdesk run` (e.g. under gunicorn): make keys now.
            ensure_signing_keys(self.secret_key)
            rows = db.session.scalars(
                db.select(SigningKey).order_by(SigningKey.created_at)).all()
        return list(rows)

    def _private(self, row: SigningKey) -> RSAKey | ECKey:
        key = self._private_cache.get(row.kid)
        if key is None:
            data = json.loads(unseal(self.secret_key, PURPOSE, row.private_jwk))
            key = (RSAKey if row.alg == "RS256" else ECKey).import_key(data)
            self._private_cache[row.kid] = key
        return key

    def _current(self) -> _RingState:
        if self._state is None or time.monotonic() - self.loaded_at > RELOAD_SECONDS:
            self.reload()
        return self._state

    def refresh_if_stale(self) -> None:
        self._current()

    def signing_key(self, alg: str = "RS256") -> RSAKey | ECKey:
        """The private key that signs `alg` tokens now (KeyError for an unknown alg)."""
        return self._current().signing[alg]

    def verifier(self, kid: str) -> RSAKey | ECKey | None:
        """The published public key named `kid` (its `alg` set), or None."""
        return self._current().verifiers.get(kid)

    def verified_tokens(self) -> dict[str, tuple[bytes, bytes]]:
        """The memo of tokens this load of the keys verified (app.oauth.signing)."""
        return self._current().verified

    def verification_keys(self) -> KeySet:
        """Every published public key (next, active, retired)."""
        return self._current().verification

    @property
    def jwks_bytes(self) -> bytes:
        return self._current().jwks_bytes

    @property
    def jwks_etag(self) -> str:
        return self._current().jwks_etag
