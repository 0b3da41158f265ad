"""The authorization endpoint: validate, then login and consent through the interaction
boundary, then the code (RFC 6749 §4.1.1-§4.1.2, OIDC Core §3.1.2, RFC 9700 §2.1).

Steps, each a small function: `check_client` (unknown client or redirect URI: an error page
at Frontdesk, never a redirect, RFC 6749 §4.1.2.1), `validate` (Authlib's grant with PKCE
and nonce hooks, plus prompt, max_age, response_mode; errors go back to the client),
`decide` (login, then consent, then `issue_code`). When the user must act, the request is
parked (app.oauth.parked) and the browser goes to a hosted page; the page ends with
finish/abort and the browser comes back to `resume`, which re-validates the parked request
and re-enters `decide`. Only `issue_code` issues codes.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import (
    AccessDeniedError,
    InvalidRequestError,
    OAuth2Payload,
    OAuth2Request,
)
from authlib.oidc.core.errors import (
    ConsentRequiredError,
    LoginRequiredError,
    RequestNotSupportedError,
    RequestURINotSupportedError,
)
from flask import Response, redirect, url_for
from werkzeug.datastructures import MultiDict

from app.extensions import authorization, frontdesk_state
from app.oauth.claims_subject import ClaimsUser, load_claims_user
from app.oauth.client_cache import ClientSnapshot, cached_client
from app.oauth.consent import consent_covers, remember_consent
from app.oauth.parked import (
    Interaction,
    discard_interaction,
    load_interaction,
    park_interaction,
    save_interaction,
)
from app.oauth.responses import (
    RESPONSE_MODES,
    authorization_response,
    error_redirect,
    page_error,
)
from app.oauth.signing import decode_jwt
from app.oauth.tokens import Subject
from app.sessions import current_login

PROMPTS = ("none", "login", "consent", "select_account")
ABORT_ERRORS = ("access_denied", "login_required", "consent_required", "interaction_required",
                "account_selection_required", "temporarily_unavailable", "server_error")
_UNSAFE = re.compile(r'[^\x20\x21\x23-\x5b\x5d-\x7e]')


class AuthorizePageError(Exception):
    """A request we cannot answer to the client: shown as an error page at Frontdesk."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


class AuthorizeRedirectError(Exception):
    """An OAuth error for a validated redirect URI (RFC 6749 §4.1.2.1)."""

    def __init__(self, error: OAuth2Error, redirect_uri: str, response_mode: str,
                 state: str | None) -> None:
        super().__init__(error.error)
        self.error, self.redirect_uri = error, redirect_uri
        self.response_mode, self.state = response_mode, state

    def response(self) -> Response:
        return error_redirect(self.redirect_uri, self.response_mode, self.error, self.state)


class _Payload(OAuth2Payload):
    def __init__(self, values: MultiDict) -> None:
        self._values = values

    @cached_property
    def data(self) -> dict[str, str]:
        """Built once: Authlib reads it for every parameter (the values never change)."""
        return {k: self._values.get(k) for k in self._values}

    @cached_property
    def datalist(self) -> dict[str, list[str]]:
        return {k: self._values.getlist(k) for k in self._values}


class ParkedRequest(OAuth2Request):
    """An authorization request rebuilt from its parameters (fresh or parked)."""

    def __init__(self, values: MultiDict) -> None:
        super().__init__("GET", frontdesk_state().settings.issuer + "/oauth2/authorize",
                         headers={})
        self.payload = _Payload(values)

    @property
    def args(self) -> dict[str, str]:
        return self.payload.data

    @property
    def form(self) -> dict[str, str]:
        return {}


@dataclass
class Authorization:
    """A validated authorization request."""

    grant: object
    request: ParkedRequest
    client: ClientSnapshot
    redirect_uri: str
    response_mode: str
    state: str | None
    scopes: list[str]
    params: dict[str, str]
    prompt: frozenset[str] = field(default_factory=frozenset)
    max_age: int | None = None
    hint_sub: str | None = None

    def fail(self, error: OAuth2Error) -> AuthorizeRedirectError:
        return AuthorizeRedirectError(error, self.redirect_uri, self.response_mode, self.state)


def check_client(values: MultiDict) -> tuple[ClientSnapshot, str]:
    """Known client and registered redirect URI, else an error page (RFC 6749 §3.1.2.4)."""
    if len(values.getlist("client_id")) > 1 or len(values.getlist("redirect_uri")) > 1:
        raise AuthorizePageError("invalid_request", "The request repeats a parameter.")
    client_id, redirect_uri = values.get("client_id"), values.get("redirect_uri")
    client = cached_client(client_id)
    if client is None:
        raise AuthorizePageError("invalid_client", "This application is not registered here.")
    if not redirect_uri or not client.check_redirect_uri(redirect_uri):
        raise AuthorizePageError("invalid_request", "The redirect URI is missing or is not "
                                 "registered for this application.")
    return client, redirect_uri


def validate(values: MultiDict) -> Authorization:
    """Validate an authorization request; OAuth errors are raised as redirects."""
    client, redirect_uri = check_client(values)
    mode = values.get("response_mode") or "query"
    state = values.get("state")
    web_uri = redirect_uri.startswith(("https://", "http://"))
    request = ParkedRequest(values)
    try:
        if not values.get("response_type"):
            raise InvalidRequestError("Missing 'response_type'.")
        grant = authorization.get_authorization_grant(request)
        grant.validate_no_multiple_request_parameter(request)
        grant.validate_consent_request()
        prompt, max_age, hint_sub = _check_oidc_parameters(values)
        if mode == "form_post" and not web_uri:
            raise InvalidRequestError("form_post needs an http(s) redirect URI.")
    except OAuth2Error as error:
        usable = mode in RESPONSE_MODES and (mode == "query" or web_uri)
        raise AuthorizeRedirectError(error, redirect_uri, mode if usable else "query",
                                     state) from None
    return Authorization(grant, request, client, redirect_uri, mode, state,
                         (request.scope or "").split(), request.payload.data, prompt,
                         max_age, hint_sub)


def _check_oidc_parameters(values: MultiDict) -> tuple[frozenset[str], int | None, str | None]:
    """response_mode, request objects, prompt, max_age and id_token_hint (OIDC Core §3.1.2.1,
    §6). Unknown parameters and prompt values are ignored."""
    if values.get("request"):
        raise RequestNotSupportedError()
    if values.get("request_uri"):
        raise RequestURINotSupportedError()
    if (values.get("response_mode") or "query") not in RESPONSE_MODES:
        raise InvalidRequestError("Unsupported 'response_mode'.")
    prompt = frozenset(p for p in (values.get("prompt") or "").split() if p in PROMPTS)
    if "none" in prompt and len(prompt) > 1:
        raise InvalidRequestError("prompt=none cannot be combined with other values.")
    max_age = values.get("max_age")
    if max_age is not None:
        if not (max_age.isascii() and max_age.isdigit()) or len(max_age) > 10:
            raise InvalidRequestError("'max_age' must be a whole number of seconds.")
        max_age = int(max_age)
    hint_sub = None
    if values.get("id_token_hint"):
        decoded = decode_jwt(values["id_token_hint"])
        if decoded is None or decoded[1].get("iss") != frontdesk_state().settings.issuer:
            raise InvalidRequestError("Invalid 'id_token_hint'.")
        hint_sub = decoded[1].get("sub")
    return prompt, max_age, hint_sub


# --- deciding -----------------------------------------------------------------------------


@dataclass
class _Login:
    user: ClaimsUser
    auth_time: int
    amr: list[str]
    acr: str | None


def start(values: MultiDict) -> Response:
    """GET/POST /oauth2/authorize."""
    return decide(validate(values), None)


def resume(interaction_id: str) -> Response:
    """GET /oauth2/authorize/resume/<id>: back from a hosted page."""
    ix = load_interaction(interaction_id)
    if ix is None:
        raise AuthorizePageError("invalid_request", "This sign-in request has expired or was "
                                 "started in another browser. Please start again from the "
                                 "application.")
    return resume_interaction(ix)


def answer(step: Callable[[], Response]) -> Response:
    """Run a step of this flow; its page errors and client redirects become responses."""
    try:
        return step()
    except AuthorizePageError as exc:
        return page_error(exc.status, exc.error, exc.description)
    except AuthorizeRedirectError as exc:
        return exc.response()


def resume_interaction(ix: Interaction) -> Response:
    """Re-validate the parked request, then the client's error or `decide`: GET resume's
    decision, and that of a page concluding the interaction in its own request
    (app.oauth.interaction.conclude)."""
    authz = validate(MultiDict(ix.params))
    if ix.error:
        discard_interaction(ix.id)
        code = ix.error.get("error")
        description = _UNSAFE.sub("", ix.error.get("error_description") or "")[:300] or None
        raise authz.fail(OAuth2Error(description=description,
                                     error=code if code in ABORT_ERRORS else "access_denied"))
    return decide(authz, ix)


def decide(authz: Authorization, ix: Interaction | None) -> Response:
    """Login, then consent, then the code."""
    login = established_login(authz, ix)
    if login is None:
        return ask(authz, ix, "login")
    scopes = granted_scopes(authz, login.user, ix)
    if scopes is None:
        return ask(authz, ix, "consent")
    if not scopes and authz.scopes:
        raise authz.fail(AccessDeniedError("No scope was allowed."))
    return issue_code(authz, login, scopes, ix)


def established_login(authz: Authorization, ix: Interaction | None) -> _Login | None:
    """The browser's login if it satisfies the request (prompt, max_age, id_token_hint);
    a login the hosted pages just finished for this interaction always does."""
    state = current_login()
    user = load_claims_user(state.user_id) if state else None
    if user is None:
        return None
    if ix is not None and ix.login and ix.login.get("sub") == user.id:
        done = ix.login
        return _Login(user, int(done["auth_time"]), list(done.get("amr") or []), done.get("acr"))
    if authz.prompt & {"login", "select_account"}:
        return None
    if authz.max_age is not None and time.time() - state.auth_time > authz.max_age:
        return None
    if authz.hint_sub is not None and authz.hint_sub != user.id:
        return None
    return _Login(user, state.auth_time, list(state.amr), state.acr)


def granted_scopes(authz: Authorization, user: ClaimsUser,
                   ix: Interaction | None) -> list[str] | None:
    """The scopes allowed, or None when the user must be asked (OIDC Core §3.1.2.4).
    First-party clients skip consent unless prompt=consent; others are asked once per
    client and scope set."""
    if ix is not None and ix.consent is not None:
        allowed = set(ix.consent.get("scopes") or [])
        granted = [s for s in authz.scopes if s in allowed]
        if granted:
            remember_consent(user.id, authz.client.client_id, granted)
        return granted
    if "consent" in authz.prompt:
        return None
    if authz.client.is_first_party or not authz.scopes:
        return authz.scopes
    if consent_covers(user.id, authz.client.client_id, authz.scopes):
        return authz.scopes
    return None


def ask(authz: Authorization, ix: Interaction | None, stage: str) -> Response:
    """Send the browser to the hosted login or consent page (or fail for prompt=none)."""
    if "none" in authz.prompt:
        raise authz.fail(LoginRequiredError() if stage == "login" else ConsentRequiredError())
    if ix is None:
        ix = park_interaction(
            client_id=authz.client.client_id, client_name=authz.client.name,
            client_logo_url=authz.client.logo_url, client_theme=authz.client.theme,
            scopes=authz.scopes, stage=stage,
            params=authz.params, prompt=sorted(authz.prompt),
            login_hint=authz.params.get("login_hint"),
            ui_locales=(authz.params.get("ui_locales") or "").split(), max_age=authz.max_age)
    else:
        ix.stage = stage
        if stage == "login":
            ix.login = None
        ix.consent = None
        save_interaction(ix)
    return redirect(url_for(f"hosted.{stage}", interaction=ix.id), 303)


def issue_code(authz: Authorization, login: _Login, scopes: list[str],
               ix: Interaction | None) -> Response:
    """Issue a code bound to client, redirect URI, PKCE, nonce and the authentication
    (RFC 6749 §4.1.2) and deliver it with state and iss."""
    request = authz.request
    request.user = Subject(user=login.user, auth_time=login.auth_time, amr=login.amr,
                           acr=login.acr)
    request.scope = " ".join(scopes)
    code = authz.grant.generate_authorization_code()
    with frontdesk_state().store.batch() as store:  # the code in, the interaction out: one trip
        authz.grant.save_authorization_code(code, request, store)
        if ix is not None:
            discard_interaction(ix.id, store)
    return authorization_response(authz.redirect_uri, authz.response_mode, [("code", code)],
                                  authz.state)
