"""The pool as the SDKs see it: its id, endpoint and issuer, and its app clients (which
auth flows each allows, SECRET_HASH for clients with a secret)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import string

from app.config import Settings
from app.extensions import db, frontdesk_state
from app.models import Client, PoolClient
from app.secretbox import SecretBoxError, seal, unseal
from app.userpool_api.errors import ApiError, invalid_parameter, not_authorized

AUTH_FLOWS = ("USER_SRP_AUTH", "USER_PASSWORD_AUTH", "REFRESH_TOKEN_AUTH",
              "ADMIN_USER_PASSWORD_AUTH")
SECRET_PURPOSE = "userpool-client-secret"  # noqa: S105 - a key-derivation label
_ID_ALPHABET = string.ascii_letters + string.digits
_ID_LENGTH = 9


def user_pool_id(settings: Settings) -> str:
    """The configured id, else one derived from the secret key: the same on every process
    and every restart, as SDK settings and token issuers need."""
    if settings.userpool_id:
        return settings.userpool_id
    digest = hmac.new(settings.secret_key.encode(), b"frontdesk-user-pool-id",
                      hashlib.sha256).digest()
    number = int.from_bytes(digest, "big")
    chars = []
    for _ in range(_ID_LENGTH):
        number, index = divmod(number, len(_ID_ALPHABET))
        chars.append(_ID_ALPHABET[index])
    return f"{settings.userpool_region}_{''.join(chars)}"


def endpoint(settings: Settings) -> str:
    return settings.issuer + "/cognito"


def pool_issuer(settings: Settings) -> str:
    """`iss` of the pool's tokens: the endpoint, then the pool id, as SDK verifiers expect."""
    return f"{endpoint(settings)}/{user_pool_id(settings)}"


def pool_region(settings: Settings) -> str:
    return user_pool_id(settings).partition("_")[0]


def normalize_flow(name: str) -> str:
    """ALLOW_USER_SRP_AUTH (the console's spelling) and USER_SRP_AUTH are one flow."""
    name = name.strip().upper().removeprefix("ALLOW_")
    name = {"REFRESH_TOKEN": "REFRESH_TOKEN_AUTH",
            "ADMIN_NO_SRP_AUTH": "ADMIN_USER_PASSWORD_AUTH"}.get(name, name)
    if name not in AUTH_FLOWS:
        raise ValueError(f"unknown auth flow {name!r}; choose from {', '.join(AUTH_FLOWS)}")
    return name


def configure_client(settings: Settings, client: Client, flows: list[str],
                     secret: str | None) -> PoolClient:
    """Record a client's auth flows and (for SECRET_HASH) its secret; the caller commits."""
    row = db.session.get(PoolClient, client.client_id) or PoolClient(client_id=client.client_id)
    row.auth_flows = list(dict.fromkeys(normalize_flow(f) for f in flows))
    if secret:
        row.secret_sealed = seal(settings.secret_key, SECRET_PURPOSE, secret)
    db.session.add(row)
    return row


def app_client(client_id: str | None) -> tuple[Client, PoolClient | None]:
    if not isinstance(client_id, str) or not client_id or len(client_id) > 128:
        raise invalid_parameter("ClientId is required.")
    client = db.session.get(Client, client_id)
    if client is None:
        raise ApiError("ResourceNotFoundException",
                       f"User pool client {client_id} does not exist.")
    return client, db.session.get(PoolClient, client_id)


def allowed_flows(settings: Settings, pool_client: PoolClient | None) -> set[str]:
    if pool_client is not None and pool_client.auth_flows:
        return set(pool_client.auth_flows)
    return {normalize_flow(f) for f in settings.csv("userpool_default_auth_flows")}


def require_flow(pool_client: PoolClient | None, flow: str) -> None:
    if flow not in allowed_flows(frontdesk_state().settings, pool_client):
        raise invalid_parameter(f"{flow} flow not enabled for this client")


def secret_hash(secret: str, username: str, client_id: str) -> str:
    """Base64(HMAC-SHA256(client secret, username + client id)), as the SDKs compute it."""
    mac = hmac.new(secret.encode(), (username + client_id).encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def check_secret_hash(client: Client, pool_client: PoolClient | None,
                      usernames: list[str], presented: str | None) -> None:
    """A client with a secret proves it with SECRET_HASH over one of the user's names."""
    if not client.client_secret_hash:
        return
    if not presented:
        raise not_authorized(f"Client {client.client_id} is configured with secret but "
                             "SECRET_HASH was not received")
    secret = _client_secret(pool_client)
    matched = secret is not None and any(
        hmac.compare_digest(secret_hash(secret, name, client.client_id), presented)
        for name in usernames if name)
    if not matched:
        raise not_authorized(f"Unable to verify secret hash for client {client.client_id}")


def _client_secret(pool_client: PoolClient | None) -> str | None:
    if pool_client is None or not pool_client.secret_sealed:
        return None
    try:
        return unseal(frontdesk_state().settings.secret_key, SECRET_PURPOSE,
                      pool_client.secret_sealed)
    except SecretBoxError:
        return None
