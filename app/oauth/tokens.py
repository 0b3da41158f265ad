"""Access tokens (RFC 9068 JWTs), the token generator, deny-list and user-wide revocation.

Public API used by other parts:
    verify_access_token(token) -> dict | None   claims of a valid, unexpired, not revoked token
    revoke_user_tokens(user_id) -> int          revoke (and commit) every refresh token of a
                                                user, and the access tokens issued until now

Revoking access tokens that nobody listed: a JWT is only known by its `jti` to whoever
holds it, so when a whole grant is revoked (a refresh family, every token of a user) the
store keeps a cut-off instead, `at_cut:<sub>` or `at_cut:<sub>:<client_id>` = a Unix time
in milliseconds, for as long as any access token can live. A token of that subject (and
client) issued until then is revoked. `iat` counts whole seconds, too coarse for a user
who signs in again right after "sign out everywhere", so the `jti` starts with the issue
time in milliseconds (11 hex digits; it stays opaque to everyone else). Frontdesk's
userinfo and introspection check the cut-offs in the same store round trip as the `jti`
deny-list; resource servers that validate tokens offline do not see them, as with any JWT
(keep access tokens short).

Refresh-token policy (documented choice): a refresh token is issued when the client is
registered with the `refresh_token` grant, for the authorization_code and refresh_token
grants only. `offline_access` is accepted and granted like any other scope; it does not by
itself cause a refresh token to be issued to a client without the grant.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from authlib.oauth2.rfc6749 import InvalidGrantError
from sqlalchemy import update

from app.extensions import db, frontdesk_state
from app.models import Client, RefreshToken, User
from app.oauth.claims import USER_SCOPES, group_names, user_claims
from app.oauth.signing import decode_jwt, sign_jwt
from app.triggers import (
    PROTECTED_CLAIMS,
    TriggerAbort,
    customize_token_claims,
    token_claims_customized,
)

ACCESS_TOKEN_TYP = "at+jwt"  # noqa: S105 - a media type, not a secret
DENY_PREFIX = "deny_jti:"
CUT_PREFIX = "at_cut:"
ACCESS_SECONDS_RANGE = (300, 86400)
REFRESH_SECONDS_RANGE = (3600, 10 * 365 * 86400)
_UNSAFE_DESCRIPTION = re.compile(r'[^\x20\x21\x23-\x5b\x5d-\x7e]')


@dataclass
class Subject:
    """The authenticated user as a grant carries it (Authlib's `request.user`): who, and
    how and when they signed in. The generator leaves the ID token claims here."""

    user: User
    auth_time: int | None
    amr: list[str] = field(default_factory=list)
    acr: str | None = None
    nonce: str | None = None  # authorization_code grant only (OIDC Core §12.2: not on refresh)
    code_hash: str | None = None  # the code this grant descends from
    family_id: str | None = None  # refresh token family
    jti: str | None = None  # access token id chosen in advance (code replay revocation)
    id_claims: dict[str, Any] | None = None

    def get_user_id(self) -> str:
        return self.user.id


def token_hash(token: str) -> str:
    """SHA-256 of a code or refresh token: the only form stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_opaque_token() -> str:
    """256 bits of randomness, URL-safe."""
    return secrets.token_urlsafe(32)


_MS_DIGITS = 11  # hex digits of a millisecond Unix time, until the year 2527
_JTI_LENGTH = _MS_DIGITS + 36  # an older jti is 43 characters, so never read as a time


def new_access_token_id() -> str:
    """An access token's `jti`: its issue time in milliseconds, then 216 random bits."""
    return f"{time.time_ns() // 1_000_000:0{_MS_DIGITS}x}{secrets.token_urlsafe(27)}"


def issued_ms(claims: dict[str, Any]) -> int | None:
    """When an access token was issued, in milliseconds: from its `jti`, else (a token
    from before jti carried it) the last millisecond of its `iat` second."""
    jti = claims.get("jti", "")
    if len(jti) == _JTI_LENGTH:
        try:
            return int(jti[:_MS_DIGITS], 16)
        except ValueError:
            pass
    issued = claims.get("iat")
    return int(issued) * 1000 + 999 if isinstance(issued, int | float) else None


def _within(value: int | None, bounds: tuple[int, int], default: int) -> int:
    return value if value is not None and bounds[0] <= value <= bounds[1] else default


def access_token_seconds(client: Client) -> int:
    """The client's access token lifetime if set within 5 min..1 day, else the default."""
    default = frontdesk_state().settings.access_token_seconds
    return _within(client.access_token_seconds, ACCESS_SECONDS_RANGE, default)


def refresh_token_seconds(client: Client) -> int:
    """The client's refresh token lifetime if set within 1 h..10 years, else the default."""
    default = frontdesk_state().settings.refresh_token_seconds
    return _within(client.refresh_token_seconds, REFRESH_SECONDS_RANGE, default)


def token_scopes(client: Client, grant_type: str, scope: str | None) -> list[str]:
    """Scopes of a token: the client's allowed subset of `scope` (RFC 6749 §3.3). Without a
    user (client_credentials) person scopes make no sense and are dropped; no scope at all
    then means every other scope of the client."""
    if grant_type == "client_credentials":
        wanted = scope.split() if scope else list(client.scopes or [])
        allowed = set(client.scopes or []) - set(USER_SCOPES)
        return [s for s in dict.fromkeys(wanted) if s in allowed]
    allowed = client.get_allowed_scope(scope)
    return allowed.split() if allowed else []


def access_claims(client: Client, subject: Subject | None, scopes: list[str],
                  lifetime: int, now: int) -> dict[str, Any]:
    """RFC 9068 §2.2 claims. `aud` is the client: we know no resource indicators (RFC 8707)."""
    claims: dict[str, Any] = {
        "iss": frontdesk_state().settings.issuer,
        "sub": subject.user.id if subject else client.client_id,
        "aud": client.client_id, "client_id": client.client_id, "scope": " ".join(scopes),
        "jti": (subject.jti if subject and subject.jti else new_access_token_id()),
        "iat": now, "exp": now + lifetime,
    }
    if subject is not None:
        if subject.auth_time:
            claims["auth_time"] = subject.auth_time
        names = group_names(subject.user)
        if names:
            claims[frontdesk_state().settings.groups_claim] = names
    return claims


def apply_claims_hook(user: User | None, client_id: str, scopes: list[str],
                      id_claims: dict | None, access: dict | None,
                      userinfo: dict | None = None) -> None:
    """Run app.triggers.customize_token_claims once; protected claims are restored after it
    whatever it did (a trigger adds claims, never overrides these). A rejection becomes
    invalid_grant. Nothing to do (and nothing copied) when no claim source or trigger is
    configured."""
    if not token_claims_customized():
        return
    dicts = [d for d in (id_claims, access, userinfo) if d is not None]
    saved = [{k: d[k] for k in PROTECTED_CLAIMS if k in d} for d in dicts]
    try:
        customize_token_claims(user, client_id, scopes, id_claims, access, userinfo)
    except TriggerAbort as exc:
        raise InvalidGrantError(_UNSAFE_DESCRIPTION.sub("", str(exc))[:200] or None) from None
    for claims, protected in zip(dicts, saved, strict=True):
        for key in PROTECTED_CLAIMS:
            claims.pop(key, None)
        claims.update(protected)


def generate_token(grant_type: str, client: Client, user: Subject | None = None,
                   scope: str | None = None, expires_in: int | None = None,
                   include_refresh_token: bool = True) -> dict[str, Any]:
    """Authlib token generator (RFC 6749 §5.1): JWT access token, opaque refresh token.

    The access token is signed with `settings.access_token_alg` (RS256 by default, the
    algorithm RFC 9068 §2.1 makes mandatory to support; ES256 when the operator chose it).

    For a user grant with `openid` it also builds the ID token claims (left on the Subject
    for app.oauth.id_tokens, which adds nonce/at_hash and signs), so that the claims hook
    sees every claim set of the response at once.
    """
    settings = frontdesk_state().settings
    scopes = token_scopes(client, grant_type, scope)
    lifetime = access_token_seconds(client)
    now = int(time.time())
    access = access_claims(client, user, scopes, lifetime, now)
    id_claims = None
    if user is not None and "openid" in scopes:
        id_claims = user_claims(user.user, scopes, settings.groups_claim)
    apply_claims_hook(user.user if user else None, client.client_id, scopes, id_claims, access)
    if user is not None:
        user.id_claims = id_claims
    token: dict[str, Any] = {
        "token_type": "Bearer",
        "access_token": sign_jwt(access, settings.access_token_alg, ACCESS_TOKEN_TYP),
        "expires_in": lifetime, "scope": " ".join(scopes),
    }
    if include_refresh_token and user is not None and client.check_grant_type("refresh_token"):
        token["refresh_token"] = new_opaque_token()
    return token


def read_access_token(token: str) -> dict[str, Any] | None:
    """Claims of a token we signed as an access token (signature, typ, iss, jti, exp
    present), whether or not it is still valid.

    Either signing algorithm is accepted whatever `access_token_alg` says now (decode_jwt:
    RS256 or ES256 by a published key of that alg), so changing the setting does not void
    tokens already issued."""
    decoded = decode_jwt(token)
    if decoded is None:
        return None
    header, claims = decoded
    if str(header.get("typ", "")).lower() not in (ACCESS_TOKEN_TYP, "application/at+jwt"):
        return None
    if claims.get("iss") != frontdesk_state().settings.issuer:
        return None
    if not isinstance(claims.get("jti"), str) or not isinstance(claims.get("exp"), int | float):
        return None
    return claims


def verify_access_token(token: str) -> dict[str, Any] | None:
    """Claims of one of our access tokens (RFC 9068 §4): signature by a published key,
    typ at+jwt, our issuer, not expired, jti not deny-listed. None otherwise.

    Cost: one signature check and one store round trip; no database query.
    """
    claims = read_access_token(token)
    if claims is None or claims["exp"] <= time.time():
        return None
    if access_token_revoked(claims):
        return None
    return claims


def access_token_revoked(claims: dict[str, Any]) -> bool:
    """Deny-listed by `jti`, or issued before a cut-off of its subject (and client)."""
    sub, client_id = str(claims.get("sub", "")), str(claims.get("client_id", ""))
    denied, cut_all, cut_client = frontdesk_state().store.get_many(
        DENY_PREFIX + claims["jti"], _cut_key(sub), _cut_key(sub, client_id))
    if denied is not None:
        return True
    if cut_all is None and cut_client is None:
        return False
    issued = issued_ms(claims)
    return issued is None or any(cut is not None and issued <= int(cut)
                                 for cut in (cut_all, cut_client))


def deny_access_token(jti: str, exp: float) -> None:
    """Deny-list an access token id until it expires (RFC 7009 §2 for JWTs)."""
    remaining = int(exp - time.time()) + 1
    if remaining > 0:
        frontdesk_state().store.set(DENY_PREFIX + jti, "1", remaining)


def _cut_key(user_id: str, client_id: str | None = None) -> str:
    """The store key of a user's access-token cut-off, for one client or for all."""
    return f"{CUT_PREFIX}{user_id}:{client_id}" if client_id else CUT_PREFIX + user_id


def revoke_access_tokens_until_now(user_id: str, client_id: str | None = None) -> None:
    """Revoke every access token issued so far to this user (for one client, or for all),
    however many and wherever they are: a cut-off kept as long as a token can live."""
    frontdesk_state().store.set(_cut_key(user_id, client_id), str(time.time_ns() // 1_000_000),
                                ACCESS_SECONDS_RANGE[1] + 1)


def revoke_refresh_family(family_id: str) -> int:
    """Revoke every refresh token of a family (reuse detected, or RFC 7009 revocation)."""
    result = db.session.execute(
        update(RefreshToken).where(RefreshToken.family_id == family_id,
                                   RefreshToken.revoked.is_(False))
        .values(revoked=True).execution_options(synchronize_session=False))
    return result.rowcount or 0


def revoke_user_tokens(user_id: str) -> int:
    """Revoke every refresh token of a user and the access tokens issued until now, and
    commit; returns how many refresh tokens were live. The user's browser sessions are
    app.sessions.end_user_sessions' job.
    """
    result = db.session.execute(
        update(RefreshToken).where(RefreshToken.user_id == user_id,
                                   RefreshToken.revoked.is_(False))
        .values(revoked=True).execution_options(synchronize_session=False))
    db.session.commit()  # before the store write: embedded, both are one SQLite file
    revoke_access_tokens_until_now(user_id)
    return result.rowcount or 0
