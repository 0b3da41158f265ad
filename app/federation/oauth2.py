"""Who signed in at a plain OAuth 2.0 upstream: the code exchanged for an access token, the
user read from the provider's user-info endpoint through its declared fields.

There is no ID token to check, so the access token is the only proof and it is used at
once, over the same fetcher, against the endpoints named in the settings. The e-mail counts
as verified only when the answer says so in the declared `email_verified` field (or, for
GitHub, the primary address of `/user/emails` is verified).
"""

from __future__ import annotations

from typing import Any

from app.federation import facebook, github
from app.federation.linking import UpstreamIdentity, upstream_email
from app.federation.providers import Provider
from app.federation.token import exchange_code
from app.federation.upstream_http import UpstreamError, fetch

MAX_SUBJECT_LENGTH = 255


def authenticate(provider: Provider, *, code: str, code_verifier: str, redirect_uri: str,
                 timeout: float) -> UpstreamIdentity:
    token = exchange_code(provider, provider.token_endpoint, code=code,
                          code_verifier=code_verifier, redirect_uri=redirect_uri,
                          timeout=timeout)
    access_token = token["access_token"]
    profile = _get_object(provider, provider.userinfo_endpoint, access_token, timeout)
    claims = read_profile(provider, profile)
    if provider.emails_endpoint:
        emails = _get(provider, provider.emails_endpoint, access_token, timeout)
        claims["email"], claims["email_verified"] = github.primary_email(emails)
    return UpstreamIdentity(provider=provider.name, subject=claims["sub"],
                            email=upstream_email(claims),
                            email_verified=claims["email_verified"] is True, claims=claims)


def read_profile(provider: Provider, profile: dict[str, Any]) -> dict[str, Any]:
    """The user-info answer as claims: `sub`, `email`, `email_verified`, `name` from the
    declared fields, then every other top-level field for the attribute mapping."""
    fields = provider.profile
    subject = field_value(profile, fields.id)
    if isinstance(subject, int) and not isinstance(subject, bool):
        subject = str(subject)  # GitHub's numeric ids
    if not isinstance(subject, str) or not subject or len(subject) > MAX_SUBJECT_LENGTH:
        raise UpstreamError("userinfo_no_subject", f"field {fields.id!r}")
    verified = field_value(profile, fields.email_verified) if fields.email_verified else False
    claims = {k: v for k, v in profile.items() if isinstance(k, str)}
    claims.update(sub=subject, email=field_value(profile, fields.email),
                  email_verified=verified is True, name=field_value(profile, fields.name))
    return claims


def field_value(data: Any, path: str) -> Any:
    """`a.b` reads data["a"]["b"]; None when any step is missing."""
    for part in path.split(".") if path else ():
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def _get(provider: Provider, url: str, access_token: str, timeout: float) -> Any:
    params = {}
    if provider.appsecret_proof:
        params["appsecret_proof"] = facebook.appsecret_proof(provider.client_secret,
                                                             access_token)
    answer = fetch("GET", url, timeout=timeout, params=params,
                   headers={"Authorization": f"Bearer {access_token}"})
    if not answer.ok:
        raise UpstreamError("userinfo_failed", f"HTTP {answer.status}")
    return answer.json()


def _get_object(provider: Provider, url: str, access_token: str, timeout: float) -> dict:
    data = _get(provider, url, access_token, timeout)
    if not isinstance(data, dict):
        raise UpstreamError("userinfo_failed", "not an object")
    return data
