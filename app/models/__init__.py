"""SQLAlchemy models. Importing this package registers every table on db.metadata."""

from app.models.audit import AuditEvent, record_event
from app.models.clients import Client, hash_client_secret
from app.models.federation import FederatedIdentity
from app.models.keys import SigningKey
from app.models.passkeys import Passkey
from app.models.store_entries import StoreEntry, StoreMember
from app.models.tokens import Consent, RefreshToken
from app.models.userpool import PoolAccessKey, PoolClient, PoolUser
from app.models.users import Group, User, user_groups

__all__ = [
    "AuditEvent", "Client", "Consent", "FederatedIdentity", "Group", "Passkey", "PoolAccessKey",
    "PoolClient", "PoolUser", "RefreshToken",
    "SigningKey", "StoreEntry", "StoreMember", "User", "hash_client_secret", "record_event",
    "user_groups",
]
