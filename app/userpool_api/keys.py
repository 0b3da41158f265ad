"""SigV4 access keys of the admin actions. SigV4 proves knowledge of the secret by an HMAC
keyed with it, so the server needs the secret itself: it is kept sealed (app.secretbox),
shown once at creation. Scopes are the admin REST API's."""

from __future__ import annotations

import secrets
import string

from app.extensions import db, frontdesk_state
from app.models import PoolAccessKey
from app.secretbox import SecretBoxError, seal, unseal

KEY_PURPOSE = "userpool-sigv4-key"
#: The admin scopes of the admin REST API, by the same names, so one vocabulary grants both.
ADMIN_SCOPES = ("admin:users:read", "admin:users:write", "admin:groups")
_KEY_ID_ALPHABET = string.ascii_uppercase + string.digits


def create_access_key(scopes: list[str], name: str = "") -> tuple[PoolAccessKey, str]:
    """A new key (added to the session; the caller commits) and its secret."""
    unknown = sorted(set(scopes) - set(ADMIN_SCOPES))
    if unknown or not scopes:
        raise ValueError(f"scopes must be among {', '.join(ADMIN_SCOPES)}; got "
                         f"{', '.join(unknown) or 'none'}")
    key_id = "FDK" + "".join(secrets.choice(_KEY_ID_ALPHABET) for _ in range(17))
    secret = secrets.token_urlsafe(30)
    row = PoolAccessKey(access_key_id=key_id, name=name, scopes=list(dict.fromkeys(scopes)),
                        secret_sealed=seal(frontdesk_state().settings.secret_key,
                                           KEY_PURPOSE, secret))
    db.session.add(row)
    return row, secret


def key_secret(access_key_id: str) -> tuple[PoolAccessKey, str] | None:
    if not access_key_id or len(access_key_id) > 32:
        return None
    row = db.session.get(PoolAccessKey, access_key_id)
    if row is None:
        return None
    try:
        return row, unseal(frontdesk_state().settings.secret_key, KEY_PURPOSE,
                           row.secret_sealed)
    except SecretBoxError:
        return None
