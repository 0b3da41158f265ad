"""The pool's token profile on top of the token issuer (app.oauth.tokens, app.oauth.refresh):
the same access-token ids, cut-offs and refresh-token families as the OIDC endpoints, with
the claims pool SDKs read (`token_use`, `cognito:username`, `cognito:groups`, `client_id`,
`username`) and `iss` = the pool's issuer. Always RS256: pool verifiers expect it.

`cognito:username` and `username` are the user's `sub`, as in a pool whose users sign in
with their e-mail address (the address is an alias, the username is the sub)."""

from __future__ import annotations

import time
from typing import Any

from app.extensions import db, frontdesk_state
from app.oauth.claims import group_names, user_claims
from app.oauth.refresh import (
    add_refresh_token,
    find_refresh_token,
    reject_reuse,
    replay_in_grace,
    rotate_refresh_token,
    subject_of,
)
from app.oauth.signing import decode_jwt, sign_jwt
from app.oauth.tokens import (
    Subject,
    access_claims,
    access_token_revoked,
    access_token_seconds,
    apply_claims_hook,
    new_access_token_id,
    new_opaque_token,
    revoke_access_tokens_until_now,
    revoke_refresh_family,
)
from app.userpool_api.errors import not_authorized
from app.userpool_api.pool import pool_issuer

POOL_SCOPE = "aws.cognito.signin.user.admin"
ID_SCOPES = ("openid", "email", "profile", "phone", "address")
ALG = "RS256"


def _pool_access(client, subject: Subject, lifetime: int, now: int) -> dict[str, Any]:
    settings = frontdesk_state().settings
    claims = access_claims(client, subject, [POOL_SCOPE], lifetime, now)
    claims.pop(settings.groups_claim, None)
    claims.pop("aud", None)  # a pool access token names its client in client_id only
    claims.update(iss=pool_issuer(settings), username=subject.user.id,
                  origin_jti=claims["jti"], auth_time=int(subject.auth_time or now))
    claims["token_use"] = "access"  # noqa: S105 - the pool claim, not a secret
    names = group_names(subject.user)
    if names:
        claims["cognito:groups"] = names
    return claims


def _pool_id(client, subject: Subject, access: dict[str, Any], now: int) -> dict[str, Any]:
    settings = frontdesk_state().settings
    claims = user_claims(subject.user, ID_SCOPES, settings.groups_claim)
    claims.pop(settings.groups_claim, None)
    claims.update(iss=pool_issuer(settings), aud=client.client_id,
                  auth_time=access["auth_time"], iat=now, exp=now + settings.id_token_seconds,
                  jti=new_access_token_id(), origin_jti=access["jti"])
    claims["token_use"] = "id"  # noqa: S105 - the pool claim, not a secret
    claims["cognito:username"] = subject.user.id
    if "cognito:groups" in access:
        claims["cognito:groups"] = access["cognito:groups"]
    return claims


def signed_tokens(client, subject: Subject) -> dict[str, Any]:
    """AuthenticationResult without a refresh token: access and ID token, signed."""
    lifetime = access_token_seconds(client)
    now = int(time.time())
    access = _pool_access(client, subject, lifetime, now)
    id_claims = _pool_id(client, subject, access, now)
    apply_claims_hook(subject.user, client.client_id, [POOL_SCOPE, *ID_SCOPES], id_claims,
                      access)
    return {"AccessToken": sign_jwt(access, ALG), "ExpiresIn": lifetime,
            "TokenType": "Bearer", "IdToken": sign_jwt(id_claims, ALG)}


def issue_tokens(client, user, amr: list[str], with_refresh: bool) -> dict[str, Any]:
    """Tokens for a sign-in that just happened; the refresh token starts a family."""
    subject = Subject(user=user, auth_time=int(time.time()), amr=list(amr))
    result = signed_tokens(client, subject)
    if with_refresh:
        raw = new_opaque_token()
        add_refresh_token(raw, client, subject, POOL_SCOPE)
        result["RefreshToken"] = raw
    return result


def refresh_tokens(client, raw: str) -> dict[str, Any]:
    """REFRESH_TOKEN_AUTH: new tokens and a rotated refresh token (reuse of a rotated one
    revokes its family, a retry within the grace window gets the same answer)."""
    found = find_refresh_token(raw or "")
    if found is None or found[0].client_id != client.client_id:
        raise not_authorized("Invalid Refresh Token")
    row, user = found
    if row.rotated_at is not None:
        again = replay_in_grace(row, raw)
        if again is None:
            reject_reuse(row)
            raise not_authorized("Refresh Token has been revoked")
        return again["result"]
    if not user.is_enabled:
        raise not_authorized("User is disabled.")
    subject = subject_of(row, user)
    result = signed_tokens(client, subject)
    result["RefreshToken"] = new_opaque_token()
    try:
        answer = rotate_refresh_token(row, raw, {"refresh_token": result["RefreshToken"],
                                                 "result": result}, client, subject)
    except Exception as exc:  # the issuer's invalid_grant: rotated or revoked meanwhile
        if getattr(exc, "error", None) != "invalid_grant":
            raise
        raise not_authorized("Refresh Token has been revoked") from None
    return answer["result"]


def refresh_token_usernames(raw: str) -> list[str]:
    """The names a SECRET_HASH of a refresh may be computed over: the user's sub, e-mail."""
    found = find_refresh_token(raw or "")
    return [found[1].id, found[1].email] if found else []


def revoke_refresh_token(client, raw: str) -> None:
    """RevokeToken: the token's family and the access tokens of that user and client."""
    found = find_refresh_token(raw or "")
    if found is None or found[0].client_id != client.client_id:
        return  # RFC 7009 §2.2: an unknown token is not an error
    row, _ = found
    revoke_refresh_family(row.family_id)
    db.session.commit()
    revoke_access_tokens_until_now(row.user_id, row.client_id)


def read_pool_access_token(token: str | None) -> dict[str, Any]:
    """Claims of a live access token of this pool, or NotAuthorizedException."""
    decoded = decode_jwt(token) if isinstance(token, str) else None
    claims = decoded[1] if decoded else None
    settings = frontdesk_state().settings
    if (claims is None or claims.get("iss") != pool_issuer(settings)
            or claims.get("token_use") != "access"
            or not isinstance(claims.get("exp"), int | float)):
        raise not_authorized("Invalid Access Token")
    if claims["exp"] <= time.time():
        raise not_authorized("Access Token has expired")
    if access_token_revoked(claims):
        raise not_authorized("Access Token has been revoked")
    return claims
