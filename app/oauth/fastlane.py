"""The hottest API requests answered straight from WSGI, before Flask's request machinery
(issue 7).

Relying parties and resource servers call these endpoints constantly.
Dispatching them through Flask (request context, session interface, CSRF, URL adapter,
blueprint hooks) cost more than node's whole request. This middleware answers:

- a plain GET or HEAD of discovery or JWKS, from the prebuilt bytes the views keep warm,
  with the headers the views send;
- a GET of userinfo with an `Authorization: Bearer` header, inside an app context, with
  the very function the view uses (app.oauth.userinfo.userinfo_for_token), errors included;
- a token request (client_credentials, refresh_token, authorization_code) or an
  introspection request with HTTP Basic client authentication, through the same Authlib
  server, grants and endpoint as the views, fed an OAuth2Request built from WSGI, and
  finished like the views (invalid_client status, no-store, the error handlers' 503/500).

Everything else goes to Flask unchanged: any request with an Origin (CORS answers need the
view), other methods and grants, client secrets or assertions in the body, a query string,
repeated parameters, a token in a form body, a document not built yet or a stale key ring
(discovery, JWKS), and an exception in userinfo (read-only: the view answers again, e.g.
with the 503 of an outage).
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Callable, Iterable
from urllib.parse import parse_qsl

from authlib.common.security import is_secure_transport
from authlib.consts import default_json_headers
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import OAuth2Payload, OAuth2Request
from authlib.oauth2.rfc6749.errors import InsecureTransportError
from flask import Flask
from werkzeug.datastructures import EnvironHeaders, MultiDict
from werkzeug.http import parse_etags

from app.keys import JWKS_MAX_AGE_SECONDS

DISCOVERY_PATH = "/.well-known/openid-configuration"
JWKS_PATH = "/.well-known/jwks.json"
USERINFO_PATH = "/oauth2/userinfo"
FORM_POSTS = {"/oauth2/token": "token", "/oauth2/introspect": "introspection"}
FAST_GRANTS = ("client_credentials", "refresh_token", "authorization_code")
MAX_FAST_BODY = 4096
# What the token view's answer carries besides Content-Type and -Length (no_store, CORS hook).
_ISSUED_HEADERS = (("Cache-Control", "no-store"), ("Pragma", "no-cache"), ("Vary", "Origin"))

logger = logging.getLogger(__name__)


class FastLane:
    """WSGI middleware in front of `app.wsgi_app`."""

    def __init__(self, app: Flask, wsgi_app: Callable) -> None:
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO")
        if "HTTP_ORIGIN" not in environ:
            method = environ.get("REQUEST_METHOD")
            if path == USERINFO_PATH and method == "GET":
                answer = self._userinfo(environ, start_response)
                if answer is not None:
                    return answer
            elif path in FORM_POSTS and method == "POST":
                answer = self._client_authenticated_post(environ, start_response,
                                                         FORM_POSTS[path])
                if answer is not None:
                    return answer
            elif (path == JWKS_PATH or path == DISCOVERY_PATH) and method in ("GET", "HEAD"):
                document = self._document(path)
                if document is not None:
                    return _cached(environ, start_response, method, *document)
        return self.wsgi_app(environ, start_response)

    def _document(self, path: str) -> tuple[bytes, str, int] | None:
        from app.oauth.discovery import DISCOVERY_MAX_AGE_SECONDS

        state = self.app.extensions["frontdesk"]
        if path == JWKS_PATH:
            jwks = state.keyring.fresh_jwks()
            return (*jwks, JWKS_MAX_AGE_SECONDS) if jwks else None
        built = state.extras.get("discovery")
        return (*built, DISCOVERY_MAX_AGE_SECONDS) if built else None

    def _userinfo(self, environ: dict, start_response: Callable) -> Iterable[bytes] | None:
        from app.oauth.userinfo import USERINFO_TYPE, userinfo_answer

        scheme, _, token = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token \
                or environ.get("CONTENT_LENGTH") not in (None, "", "0"):
            return None
        try:
            with self.app.app_context():
                response = userinfo_answer(token)
        except Exception:  # noqa: BLE001 - the view answers instead (outage: a clean 503)
            logger.debug("userinfo fast lane fell back to the view", exc_info=True)
            return None
        if isinstance(response, bytes):  # the view's headers, Vary from its CORS hook
            start_response("200 OK", [
                ("Content-Type", USERINFO_TYPE), ("Content-Length", str(len(response))),
                ("Cache-Control", "no-store"), ("Vary", "Origin")])
            return [response]
        response.vary.add("Origin")  # as the view's CORS hook does
        # A bytes body with its final headers: what Response.__call__ would send, directly.
        start_response(response.status, list(response.headers.items()))
        return [response.get_data()]

    def _client_authenticated_post(self, environ: dict, start_response: Callable,
                                   kind: str) -> Iterable[bytes] | None:
        """A token (`kind` "token") or introspection request with HTTP Basic only. Once
        Authlib has it, every outcome is answered here (grants have side effects: a code
        is redeemed, a refresh token rotated; nothing may run twice)."""
        from app.errors import failure_response
        from app.extensions import authorization
        from app.oauth.responses import fix_client_auth_status, no_store

        form = _small_form(environ)
        if form is None or environ.get("QUERY_STRING") \
                or environ.get("HTTP_AUTHORIZATION", "")[:6].lower() != "basic " \
                or "client_assertion" in form or "client_secret" in form \
                or any(len(form.getlist(key)) > 1 for key in form) \
                or (kind == "token" and form.get("grant_type") not in FAST_GRANTS):
            return None
        with self.app.app_context():
            try:
                request = WSGIFormRequest(environ, form)
            except OAuth2Error:  # insecure_transport: the view's error handler words it
                return None
            try:
                response = self._token_answer(request) if kind == "token" \
                    else authorization.create_endpoint_response("introspection", request)
                if isinstance(response, bytes):
                    start_response("200 OK", [
                        ("Content-Type", "application/json"),
                        ("Content-Length", str(len(response))), *_ISSUED_HEADERS])
                    return [response]
                response = no_store(fix_client_auth_status(response, used_basic=True))
            except Exception as exc:  # noqa: BLE001 - as the app's error handlers answer
                response = failure_response(exc)
        if kind == "token":
            response.vary.add("Origin")  # as the token view's CORS hook does
        # A JSON body with its final headers: what Response.__call__ would send, directly.
        start_response(response.status, list(response.headers.items()))
        return [response.get_data()]

    def _token_answer(self, request: OAuth2Request):
        """Authlib's create_token_response, but a token issued is answered as bytes: the JSON
        and headers its Flask integration, no_store() and the CORS hook would give, without
        a Response object (a tenth of a client_credentials request). Anything else is the
        Response Authlib makes, finished by the caller."""
        from app.extensions import authorization

        try:
            grant = authorization.get_token_grant(request)
            grant.validate_token_request()
            status, body, headers = grant.create_token_response()
        except OAuth2Error as error:
            return authorization.handle_error_response(request, error)
        if status == 200 and isinstance(body, dict) and headers == default_json_headers:
            return self.app.json.dumps(body).encode()
        return authorization.handle_response(status, body, headers)


class _FormPayload(OAuth2Payload):
    def __init__(self, form: MultiDict) -> None:
        self._form = form

    @property
    def data(self) -> MultiDict:
        return self._form

    @property
    def datalist(self) -> dict[str, list]:
        return {key: self._form.getlist(key) for key in self._form}


class WSGIFormRequest(OAuth2Request):
    """What Authlib's Flask request adapter provides, read from WSGI directly."""

    def __init__(self, environ: dict, form: MultiDict) -> None:
        url = _request_url(environ)
        _check_transport(url)
        # OAuth2Request.__init__'s attributes, without its URL parse per request (the
        # transport check above is the same one, remembered per scheme and host).
        self.method, self.uri, self.headers, self._body = "POST", url, EnvironHeaders(environ), None
        self.client = self.auth_method = self.user = self.credential = None
        self.authorization_code = self.refresh_token = self._scope = None
        self.payload = _FormPayload(form)
        self._form = form

    @property
    def form(self) -> MultiDict:
        return self._form

    @property
    def args(self) -> MultiDict:
        return MultiDict()


_SECURE_TRANSPORT: dict[tuple[str, str | None], bool] = {}


def _check_transport(url: str) -> None:
    """Authlib's InsecureTransportError check, remembered per scheme://host (and the
    AUTHLIB_INSECURE_TRANSPORT switch); bounded, since Host comes from the client."""
    key = ("/".join(url.split("/", 3)[:3]), os.environ.get("AUTHLIB_INSECURE_TRANSPORT"))
    secure = _SECURE_TRANSPORT.get(key)
    if secure is None:
        if len(_SECURE_TRANSPORT) >= 64:
            _SECURE_TRANSPORT.clear()
        secure = _SECURE_TRANSPORT[key] = is_secure_transport(url)
    if not secure:
        raise InsecureTransportError()


def _request_url(environ: dict) -> str:
    """scheme://host/path: what Authlib reads the URL for (the https check). Werkzeug's
    get_current_url also IRI-decodes and validates, a tenth of this request's CPU."""
    host = environ.get("HTTP_HOST") or \
        f"{environ.get('SERVER_NAME', '')}:{environ.get('SERVER_PORT', '')}"
    return f"{environ.get('wsgi.url_scheme', 'http')}://{host}{environ.get('PATH_INFO', '')}"


def _small_form(environ: dict) -> MultiDict | None:
    """The url-encoded body of a small POST, or None. The body is read, so it is put back
    for Flask in case the view answers after all."""
    if not environ.get("CONTENT_TYPE", "").lower().startswith(
            "application/x-www-form-urlencoded"):
        return None
    try:
        length = int(environ.get("CONTENT_LENGTH") or -1)
    except ValueError:
        return None
    if not 0 < length <= MAX_FAST_BODY or environ.get("HTTP_TRANSFER_ENCODING"):
        return None
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    try:
        return MultiDict(parse_qsl(body.decode("utf-8"), keep_blank_values=True,
                                   errors="werkzeug.url_quote"))  # as Werkzeug parses forms
    except (UnicodeDecodeError, ValueError):
        return None


def _cached(environ: dict, start_response: Callable, method: str, body: bytes, etag: str,
            max_age: int) -> Iterable[bytes]:
    headers = [("ETag", etag), ("Cache-Control", f"public, max-age={max_age}"),
               ("Vary", "Origin")]
    if_none_match = environ.get("HTTP_IF_NONE_MATCH")
    if if_none_match and parse_etags(if_none_match).contains_weak(etag.strip('"')):
        start_response("304 NOT MODIFIED", headers)
        return []
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body))), *headers])
    return [] if method == "HEAD" else [body]


def install_fast_lane(app: Flask) -> None:
    app.wsgi_app = FastLane(app, app.wsgi_app)
