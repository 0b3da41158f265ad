"""RP-Initiated Logout 1.0 (end_session_endpoint) on Authlib's EndSessionEndpoint.

Stricter than Authlib's defaults where the spec allows: a post_logout_redirect_uri that is
not registered for the identified client, an unknown client_id or an id_token_hint we did
not issue is an error page (§4: no redirection on errors), not a silently ignored value.
Without a valid id_token_hint for the signed-in user we ask for confirmation (§6) with a
CSRF-protected form; after confirmation a registered URI of the named client is a
legitimate redirect target (§3).

`end_everything` is the other way out: every browser session and every token of a user at
once ("sign out everywhere", a password change or reset, an administrator's disable,
delete or sign-out).
"""

from __future__ import annotations

from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oidc.rpinitiated import EndSessionEndpoint as _EndSessionEndpoint
from authlib.oidc.rpinitiated import EndSessionRequest
from flask import request
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms import ValidationError

from app.extensions import db, frontdesk_state
from app.models import record_event
from app.oauth.signing import SIGNING_ALGS, decode_jwt
from app.oauth.tokens import revoke_user_tokens
from app.sessions import current_login, end_login_session, end_user_sessions

LOGOUT_PARAMS = ("id_token_hint", "client_id", "post_logout_redirect_uri", "state",
                 "ui_locales", "logout_hint")


class EndSessionEndpoint(_EndSessionEndpoint):
    def get_server_jwks(self):
        return frontdesk_state().keyring.verification_keys()

    def get_algorithms(self) -> list[str]:
        return list(SIGNING_ALGS)

    def validate_request(self, oauth_request) -> EndSessionRequest:
        data = oauth_request.payload.data
        client_id = data.get("client_id")
        if client_id and self.server.query_client(client_id) is None:
            raise InvalidRequestError("Unknown 'client_id'.")
        hint = data.get("id_token_hint")
        if hint and not is_id_token(hint):
            raise InvalidRequestError("The 'id_token_hint' is not an ID token of ours.")
        validated = super().validate_request(oauth_request)
        claims = validated.id_token_claims
        if claims is not None and claims.get("iss") != frontdesk_state().settings.issuer:
            raise InvalidRequestError("The 'id_token_hint' was not issued here.")
        if data.get("post_logout_redirect_uri") and validated.redirect_uri is None:
            raise InvalidRequestError("The 'post_logout_redirect_uri' is not registered for "
                                      "this client.")
        return validated

    def is_post_logout_redirect_uri_legitimate(self, oauth_request, uri, client, hint) -> bool:
        """Registered for the client the request names; the user confirms first."""
        return True

    def end_session(self, end_session_request: EndSessionRequest) -> None:
        login = current_login()
        if login is not None:
            client = end_session_request.client
            record_event("logout", user_id=login.user_id,
                         client_id=client.client_id if client else None,
                         ip=request.remote_addr)
            db.session.commit()
        end_login_session()


def is_id_token(token: str) -> bool:
    """Signed by us and not an access token (typ at+jwt)."""
    decoded = decode_jwt(token)
    return decoded is not None and str(decoded[0].get("typ", "JWT")).lower() == "jwt"


def needs_confirmation(validated: EndSessionRequest) -> bool:
    """Ask the user unless the hint names the signed-in user (nobody signed in: nothing to
    end, nothing to ask)."""
    login = current_login()
    if login is None:
        return False
    claims = validated.id_token_claims
    return claims is None or claims.get("sub") != login.user_id


def confirmed() -> bool:
    """The confirmation form was posted with a valid CSRF token."""
    if request.method != "POST" or request.form.get("confirm") != "yes":
        return False
    try:
        validate_csrf(request.form.get("csrf_token"))
    except (ValidationError, CSRFError):
        return False
    return True


def confirmation_params() -> list[tuple[str, str]]:
    values = request.values
    return [(k, values[k]) for k in LOGOUT_PARAMS if values.get(k)]


def end_everything(user_id: str) -> int:
    """End every browser session of the user (this one included) and revoke, committed,
    their refresh tokens and the access tokens issued until now; returns how many browser
    sessions were ended."""
    ended = end_user_sessions(frontdesk_state().store, user_id)
    revoke_user_tokens(user_id)
    return ended
