"""ID tokens (OIDC Core §2, §3.1.3.6, §12.2) as Authlib extensions of the token grants.

`OpenIDCodeExtension` is Authlib's OpenIDCode for the authorization_code grant: nonce
checks at the authorization endpoint and the ID token in the token response. The same
encoder serves the refresh_token grant (`IDTokenEncoder`). The user claims were built by
the token generator (app.oauth.tokens.generate_token) and passed through the claims hook;
this module adds the protocol claims and signs with the client's algorithm (RS256 by
default, ES256 per client; never HS256 or none).
"""

from __future__ import annotations

import time
from typing import Any

from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oidc.core import OpenIDCode
from authlib.oidc.core.grants.code import OpenIDToken
from authlib.oidc.core.grants.util import is_openid_scope
from authlib.oidc.core.util import create_half_hash

from app.extensions import frontdesk_state
from app.models import Client
from app.oauth.signing import SIGNING_ALGS, sign_jwt
from app.oauth.tokens import Subject


def id_token_alg(client: Client) -> str:
    """The client's registered alg when we support it, else RS256 (OIDC Registration §2)."""
    alg = client.id_token_signed_response_alg
    return alg if alg in SIGNING_ALGS else "RS256"


def build_id_token(client: Client, subject: Subject, access_token: str | None,
                   with_nonce: bool) -> str:
    """Sign an ID token for `subject`. auth_time is the original authentication time, also
    on refresh; nonce only in response to the code (OIDC Core §12.2 errata)."""
    settings = frontdesk_state().settings
    alg = id_token_alg(client)
    now = int(time.time())
    claims: dict[str, Any] = dict(subject.id_claims or {"sub": subject.user.id})
    claims.update(iss=settings.issuer, sub=subject.user.id, aud=client.client_id,
                  iat=now, exp=now + settings.id_token_seconds,
                  auth_time=int(subject.auth_time or now))
    if subject.amr:
        claims["amr"] = list(subject.amr)
    if subject.acr:
        claims["acr"] = subject.acr
    if with_nonce and subject.nonce:
        claims["nonce"] = subject.nonce
    if access_token:
        claims["at_hash"] = create_half_hash(access_token, alg).decode("ascii")
    return sign_jwt(claims, alg)


class IDTokenEncoder(OpenIDToken):
    """Adds `id_token` to a token response whose scope has `openid` (OIDC Core §3.1.3.3)."""

    def encode_id_token(self, token: dict, request: OAuth2Request) -> str:
        return build_id_token(request.client, request.user, token.get("access_token"),
                              with_nonce=request.authorization_code is not None)

    def process_token(self, grant, response):
        _, token, _ = response
        subject = grant.request.user
        if (not isinstance(subject, Subject) or subject.id_claims is None
                or "id_token" in token or not is_openid_scope(token.get("scope"))):
            return token
        token["id_token"] = self.encode_id_token(token, grant.request)
        return token


class OpenIDCodeExtension(IDTokenEncoder, OpenIDCode):
    """OpenIDCode without Authlib's prompt handling: prompt, max_age and consent are decided
    by app.oauth.authorize, which knows about the hosted pages."""

    def __init__(self) -> None:
        OpenIDCode.__init__(self, require_nonce=False)

    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        """Nonce replay is detected by the client (OIDC Core §3.1.3.7 step 11)."""
        return False

    def __call__(self, grant) -> None:
        grant.register_hook("after_create_token_response", self.process_token)
        if is_openid_scope(grant.request.payload.scope):
            grant.register_hook("after_validate_authorization_request_payload",
                                self.validate_openid_authorization_request)
