"""User claims by scope (OIDC Core §5.1, §5.4) and the groups claim.

The same function feeds the ID token and the userinfo answer, so both always agree.
`sub` is the user's stable id (a UUID), never the e-mail address.
"""

from __future__ import annotations

from typing import Any

from app.models import User

#: OIDC Core §5.4: the claims each standard scope asks for.
PROFILE_CLAIMS = (
    "name", "family_name", "given_name", "middle_name", "nickname", "preferred_username",
    "profile", "picture", "website", "gender", "birthdate", "zoneinfo", "locale",
)
PHONE_CLAIMS = ("phone_number", "phone_number_verified")
#: Scopes that describe a person; meaningless for client_credentials.
USER_SCOPES = ("openid", "profile", "email", "phone", "address", "offline_access")
#: Claims we can issue (advertised in discovery as claims_supported).
CLAIMS_SUPPORTED = (
    "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "amr", "acr", "at_hash",
    *PROFILE_CLAIMS, "updated_at", "email", "email_verified", *PHONE_CLAIMS, "address",
)


def group_names(user: User) -> list[str]:
    """Names of the user's groups, lowest precedence value first (then by name)."""
    return [g.name for g in sorted(user.groups, key=lambda g: (g.precedence, g.name))]


def user_claims(user: User, scopes: list[str] | set[str], groups_claim: str) -> dict[str, Any]:
    """`sub` plus the claims the granted scopes ask for, where the user has a value."""
    scopes = set(scopes)
    attributes = user.attributes or {}
    claims: dict[str, Any] = {"sub": user.id}
    if "profile" in scopes:
        claims.update({k: attributes[k] for k in PROFILE_CLAIMS if _present(attributes, k)})
        if user.updated_at is not None:
            claims["updated_at"] = int(user.updated_at.timestamp())
    if "email" in scopes:
        claims["email"] = user.email
        claims["email_verified"] = bool(user.email_verified)
    if "phone" in scopes:
        claims.update({k: attributes[k] for k in PHONE_CLAIMS if _present(attributes, k)})
    if "address" in scopes and isinstance(attributes.get("address"), dict | str):
        address = attributes["address"]
        claims["address"] = address if isinstance(address, dict) else {"formatted": address}
    names = group_names(user)
    if names:
        claims[groups_claim] = names
    return claims


def _present(attributes: dict[str, Any], key: str) -> bool:
    value = attributes.get(key)
    return value is not None and value != ""
