"""The grants we serve, as small Authlib subclasses (RFC 6749 §4.1, §4.4, §6; RFC 7636).

No implicit, hybrid or password grants exist here (RFC 9700 §2.1.2, §2.4).
"""

from __future__ import annotations

import hmac
import secrets

from authlib.oauth2.rfc6749 import (
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    grants,
)
from authlib.oauth2.rfc6749.hooks import hooked
from authlib.oauth2.rfc7636 import CodeChallenge, create_s256_code_challenge

from app.oauth.claims_subject import load_claims_user
from app.oauth.codes import AuthorizationCode, redeem_code, revoke_replayed_code, save_code
from app.oauth.id_tokens import IDTokenEncoder
from app.oauth.refresh import (
    find_refresh_token,
    reject_reuse,
    replay_in_grace,
    rotate_refresh_token,
    subject_of,
)
from app.oauth.tokens import Subject, access_token_seconds, token_scopes
from app.store import Store

USER_GRANT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]
CONFIDENTIAL_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"]


def compare_s256(verifier: str, challenge: str) -> bool:
    """BASE64URL(SHA256(verifier)) == challenge, in constant time (RFC 7636 §4.6)."""
    return hmac.compare_digest(create_s256_code_challenge(verifier), challenge)


class S256CodeChallenge(CodeChallenge):
    """PKCE with S256 only (RFC 9700 §2.1.1). `plain` is neither advertised nor accepted,
    and a challenge without a method is refused rather than taken as plain (RFC 7636 §4.3
    default). Public clients must use PKCE (required=True)."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    CODE_CHALLENGE_METHODS = {"S256": compare_s256}

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        challenge, method = data.get("code_challenge"), data.get("code_challenge_method")
        if challenge and not method:
            raise InvalidRequestError("'code_challenge_method' is required; only S256 is "
                                      "supported.")
        super().validate_code_challenge(grant, redirect_uri)
        if self.required and not challenge and grant.request.client.is_public:
            raise InvalidRequestError("PKCE (code_challenge with S256) is required for "
                                      "public clients.")


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    """RFC 6749 §4.1 with single-use codes in the store and replay revocation (§4.1.2)."""

    TOKEN_ENDPOINT_AUTH_METHODS = USER_GRANT_AUTH_METHODS

    def generate_authorization_code(self) -> str:
        """256 random bits. Authlib's default draws 48 characters one SystemRandom call at
        a time, a tenth of the resume request's CPU."""
        return secrets.token_urlsafe(32)

    def save_authorization_code(self, code: str, request, store: Store | None = None) -> None:
        subject: Subject = request.user
        data = request.payload.data
        save_code(code, AuthorizationCode(
            client_id=request.client.client_id, redirect_uri=request.payload.redirect_uri,
            scope=request.scope or "", user_id=subject.user.id,
            auth_time=int(subject.auth_time or 0), amr=list(subject.amr), acr=subject.acr,
            nonce=data.get("nonce"), code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method")), store)

    def query_authorization_code(self, code: str, client) -> AuthorizationCode | None:
        found = redeem_code(code, marker_seconds=access_token_seconds(client) + 60)
        if found is None:
            if revoke_replayed_code(code):
                raise InvalidGrantError("The authorization code was already used; the "
                                        "tokens issued from it are revoked.")
            return None
        if found.client_id != client.client_id:
            return None
        return found

    def delete_authorization_code(self, authorization_code) -> None:
        """Nothing left to delete: redeeming took the code out of the store."""

    def authenticate_user(self, authorization_code: AuthorizationCode) -> Subject | None:
        user = load_claims_user(authorization_code.user_id)
        if user is None:
            return None
        return Subject(user=user, auth_time=authorization_code.auth_time,
                       amr=authorization_code.amr, acr=authorization_code.acr,
                       nonce=authorization_code.nonce, code_hash=authorization_code.code_hash,
                       family_id=authorization_code.family_id, jti=authorization_code.jti)


class RefreshTokenGrant(grants.RefreshTokenGrant):
    """RFC 6749 §6 with rotation on every use, family revocation on reuse and a grace
    window for retries (app.oauth.refresh). A narrower scope applies to the new access
    token; the new refresh token keeps the original scope (§6)."""

    TOKEN_ENDPOINT_AUTH_METHODS = USER_GRANT_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str):
        found = find_refresh_token(refresh_token)
        if found is None:
            return None
        row, user = found
        self.request.refresh_user = user
        return row

    def validate_token_request(self):
        super().validate_token_request()
        row = self.request.refresh_token
        self.request.grace_response = None
        if row.rotated_at is not None:
            raw = self.request.form.get("refresh_token")
            self.request.grace_response = replay_in_grace(row, raw)
            if self.request.grace_response is None:
                raise reject_reuse(row)

    def authenticate_user(self, refresh_token) -> Subject | None:
        user = self.request.refresh_user
        if user is None or not user.is_enabled:
            return None
        return subject_of(refresh_token, user)

    @hooked
    def create_token_response(self):
        if self.request.grace_response is not None:
            return 200, self.request.grace_response, self.TOKEN_RESPONSE_HEADER
        row = self.request.refresh_token
        subject = self.authenticate_user(row)
        if subject is None:
            raise InvalidGrantError("The user of this refresh token cannot sign in.")
        self.request.user = subject
        token = self.issue_token(subject, row)
        IDTokenEncoder().process_token(self, (200, token, None))
        raw = self.request.form.get("refresh_token")
        token = rotate_refresh_token(row, raw, token, self.request.client, subject)
        return 200, token, self.TOKEN_RESPONSE_HEADER


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    """RFC 6749 §4.4: confidential clients with the grant; an access token only."""

    TOKEN_ENDPOINT_AUTH_METHODS = CONFIDENTIAL_AUTH_METHODS

    def validate_requested_scope(self):
        """A request that names scopes of which none can be granted is refused, as in the
        code flow, rather than answered with a token for no scope at all. Person scopes
        (openid, profile, ...) need a user, so they never count here."""
        super().validate_requested_scope()
        scope = self.request.payload.scope
        if scope and scope.split() and not token_scopes(self.request.client, self.GRANT_TYPE,
                                                         scope):
            raise InvalidScopeError(
                "None of the requested scopes can be granted to this client without a user: "
                "a client_credentials token carries the client's API scopes, never openid, "
                "profile, email, phone, address or offline_access.")
