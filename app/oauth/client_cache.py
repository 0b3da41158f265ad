"""Per-process cache of client data for the protocol's hot paths: client snapshots (token,
introspection, revocation, authorize, logout) and the public clients' origins (CORS).

A client is read from the database once and kept as an immutable `ClientSnapshot` (the
fields and the Authlib ClientMixin methods of `Client`), per app, for at most
CACHE_SECONDS. Every use first reads the clients' version, `clients:version`: with Redis
from this process's mirror of it, kept current by pub/sub (app/store_mirror.py), without a
round trip; while the mirror is not subscribed, and on the embedded store, with one GET
per request (memoized on `flask.g`). An entry loaded under another version is reloaded.
Any commit that inserts, changes or deletes a Client row through the ORM (admin API, CLI,
demo, anything) writes and announces a fresh random version after the commit, and drops
the entry in this process: a deleted client or a rotated secret stops working in every
process as soon as the announcement arrives (milliseconds). If that store write fails
(store down), or an announcement is lost unnoticed, other processes stop using the old
entry within CACHE_SECONDS.
Changes made without the ORM (raw SQL) must call `client_changed(client_id)` after their
commit. The public clients' origins are one more entry of the same cache, kept under the
same version and lifetime, so no client change can leave an origin allowed after it: this
is the one invalidation of client data.

The version is a random token rather than a counter so that a lost or expired key can
never make an old entry look current. When the store cannot be read the client comes from
the database, uncached, exactly as without the cache.
"""

from __future__ import annotations

import copy
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from flask import current_app, g, has_app_context
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.extensions import db, frontdesk_state
from app.models import Client
from app.store import StoreUnavailable

log = logging.getLogger(__name__)

VERSION_KEY = "clients:version"
VERSION_TTL_SECONDS = 366 * 24 * 3600  # expiry is harmless: a missing key is a new version
CACHE_SECONDS = 5.0
MAX_ENTRIES = 2048
_CACHE = "client_cache"
_CHANGED = "fd_changed_client_ids"
_NO_VERSION = object()


@dataclass(frozen=True)
class ClientSnapshot:
    """What the protocol reads of a client, detached from any session. It answers the same
    methods as `Client` (they are Client's own functions, applied to the snapshot)."""

    client_id: str
    client_secret_hash: str | None
    name: str
    logo_url: str | None
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]
    grant_types: tuple[str, ...]
    scopes: tuple[str, ...]
    token_endpoint_auth_method: str
    is_public: bool
    is_first_party: bool
    jwks: dict[str, Any] | None
    jwks_uri: str | None
    id_token_signed_response_alg: str
    access_token_seconds: int | None
    refresh_token_seconds: int | None
    theme: str | None

    secret_matches = Client.secret_matches
    get_client_id = Client.get_client_id
    get_default_redirect_uri = Client.get_default_redirect_uri
    get_allowed_scope = Client.get_allowed_scope
    check_redirect_uri = Client.check_redirect_uri
    check_client_secret = Client.check_client_secret
    check_endpoint_auth_method = Client.check_endpoint_auth_method
    check_response_type = Client.check_response_type
    check_grant_type = Client.check_grant_type
    client_metadata = Client.client_metadata
    origins = Client.origins

    @classmethod
    def of(cls, client: Client) -> ClientSnapshot:
        return cls(
            client_id=client.client_id, client_secret_hash=client.client_secret_hash,
            name=client.name, logo_url=client.logo_url,
            redirect_uris=tuple(client.redirect_uris or ()),
            post_logout_redirect_uris=tuple(client.post_logout_redirect_uris or ()),
            grant_types=tuple(client.grant_types or ()), scopes=tuple(client.scopes or ()),
            token_endpoint_auth_method=client.token_endpoint_auth_method,
            is_public=bool(client.is_public), is_first_party=bool(client.is_first_party),
            jwks=copy.deepcopy(client.jwks), jwks_uri=client.jwks_uri,
            id_token_signed_response_alg=client.id_token_signed_response_alg or "RS256",
            access_token_seconds=client.access_token_seconds,
            refresh_token_seconds=client.refresh_token_seconds, theme=client.theme)


@dataclass(frozen=True)
class _Entry:
    client: ClientSnapshot
    version: str | None
    expires: float


@dataclass(frozen=True)
class _Origins:
    origins: frozenset[str]
    version: str | None
    expires: float


class ClientCache:
    """client_id -> _Entry for one app, and the public clients' origins. Plain dict and
    attribute operations (atomic under the GIL); a race between threads at worst loads a
    client twice."""

    def __init__(self) -> None:
        self.entries: dict[str, _Entry] = {}
        self.origins: _Origins | None = None
        self.lock = threading.Lock()

    def get(self, client_id: str, version: str | None) -> ClientSnapshot | None:
        entry = self.entries.get(client_id)
        if entry is None or entry.version != version or entry.expires < time.monotonic():
            return None
        return entry.client

    def put(self, client: ClientSnapshot, version: str | None) -> None:
        with self.lock:
            if len(self.entries) >= MAX_ENTRIES:
                self.entries.clear()
            self.entries[client.client_id] = _Entry(client, version,
                                                    time.monotonic() + CACHE_SECONDS)

    def public_origins(self, version: str | None) -> frozenset[str] | None:
        held = self.origins
        if held is None or held.version != version or held.expires < time.monotonic():
            return None
        return held.origins

    def put_public_origins(self, origins: frozenset[str], version: str | None) -> None:
        self.origins = _Origins(origins, version, time.monotonic() + CACHE_SECONDS)

    def forget(self, *client_ids: str) -> None:
        """Drop these clients, and the origins (any client may have been public)."""
        for client_id in client_ids:
            self.entries.pop(client_id, None)
        self.origins = None


def client_cache() -> ClientCache:
    extras = frontdesk_state().extras
    cache = extras.get(_CACHE)
    if cache is None:
        cache = extras.setdefault(_CACHE, ClientCache())
    return cache


def _current_version() -> str | None | object:
    """The clients' version: this process's mirror of it while that is live (no round
    trip), else the store's, read once per request; _NO_VERSION when unreadable."""
    store = frontdesk_state().store
    mirror = store.mirror(VERSION_KEY)
    if mirror is not None:
        live, version = mirror.current()
        if live:
            return version
    if "fd_clients_version" in g:
        return g.fd_clients_version
    try:
        version = store.get(VERSION_KEY)
    except StoreUnavailable:
        version = _NO_VERSION
    g.fd_clients_version = version
    return version


def cached_client(client_id: str | None) -> ClientSnapshot | None:
    """The client, from this process's cache when still current, else from the database.
    Unknown ids are not cached (a new client changes the version anyway)."""
    if not client_id or not isinstance(client_id, str) or len(client_id) > 128:
        return None
    version = _current_version()
    cache = client_cache()
    if version is not _NO_VERSION:
        found = cache.get(client_id, version)
        if found is not None:
            return found
    row = db.session.get(Client, client_id)
    if row is None:
        return None
    snapshot = ClientSnapshot.of(row)
    if version is not _NO_VERSION:
        cache.put(snapshot, version)
    return snapshot


def public_client_origins() -> frozenset[str]:
    """The origins of every public client's redirect URIs, from this process's cache when
    still current (same version and lifetime as the snapshots), else from the database."""
    version = _current_version()
    cache = client_cache()
    if version is not _NO_VERSION:
        found = cache.public_origins(version)
        if found is not None:
            return found
    rows = db.session.scalars(select(Client).where(Client.is_public.is_(True)))
    origins = frozenset(origin for row in rows for origin in row.origins())
    if version is not _NO_VERSION:
        cache.put_public_origins(origins, version)
    return origins


def client_changed(*client_ids: str) -> None:
    """A client was added, changed or deleted (call after the commit): drop it here and
    make every process reload its clients. Commits through the ORM call this by
    themselves."""
    client_cache().forget(*client_ids)
    g.pop("fd_clients_version", None)
    try:
        frontdesk_state().store.set_announced(VERSION_KEY, secrets.token_urlsafe(12),
                                              VERSION_TTL_SECONDS)
    except StoreUnavailable:
        log.warning("clients:version not updated (store unavailable): other processes may "
                    "use the old client data for up to %s s", CACHE_SECONDS)


# --- ORM hooks: every committed change to a Client row invalidates --------------------------


def _note_changed_clients(session: Session, _context) -> None:
    changed = {obj.client_id for obj in (*session.new, *session.dirty, *session.deleted)
               if isinstance(obj, Client) and obj.client_id}
    if changed:
        session.info.setdefault(_CHANGED, set()).update(changed)


def _announce_changed_clients(session: Session) -> None:
    changed = session.info.pop(_CHANGED, None)
    if changed and has_app_context() and "frontdesk" in current_app.extensions:
        client_changed(*sorted(changed))


def _drop_changed_clients(session: Session) -> None:
    session.info.pop(_CHANGED, None)


def install_client_hooks() -> None:
    """Once per process: watch ORM flushes and commits for Client changes."""
    if event.contains(Session, "after_flush", _note_changed_clients):
        return
    event.listen(Session, "after_flush", _note_changed_clients)
    event.listen(Session, "after_commit", _announce_changed_clients)
    event.listen(Session, "after_rollback", _drop_changed_clients)
