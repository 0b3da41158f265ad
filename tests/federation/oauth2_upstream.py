"""Facebook- and GitHub-shaped OAuth 2.0 servers on 127.0.0.1 for the federation tests: one
small WSGI app (werkzeug) served in a thread on a free port.

Like the real ones, it
- answers the authorization request by redirecting to the registered redirect URI with a
  `code` and the `state` (or Facebook's / GitHub's cancel answer);
- checks the client id, secret, redirect URI and PKCE verifier at the token endpoint, and
  says no the way each does: Facebook with HTTP 400 and an `error` OBJECT, GitHub with
  HTTP 200 and an `error` string;
- serves Facebook's `/me?fields=id,name,email` only with a correct `appsecret_proof`
  (HMAC-SHA256 of the access token keyed with the app secret), and GitHub's `/user`
  (numeric id, public e-mail often null) and `/user/emails`.
Tests steer it through `behaviour`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

CLIENT_ID = "frontdesk-app"
CLIENT_SECRET = "app-secret-" + "x" * 20  # noqa: S105 - a test value


@dataclass
class Behaviour:
    facebook_user: dict[str, Any] = field(default_factory=lambda: {
        "id": "10001234567", "name": "Fay Book", "email": "fay@example.com"})
    github_user: dict[str, Any] = field(default_factory=lambda: {
        "id": 583231, "login": "octojane", "name": "Octo Jane", "email": None})
    github_emails: list[dict[str, Any]] = field(default_factory=lambda: [
        {"email": "old@example.org", "primary": False, "verified": True,
         "visibility": None},
        {"email": "octo@example.com", "primary": True, "verified": True,
         "visibility": "private"}])
    deny: bool = False
    token_error: bool = False


class OAuth2Upstream:
    def __init__(self) -> None:
        self.behaviour = Behaviour()
        self.codes: dict[str, dict[str, str]] = {}
        self.tokens: dict[str, str] = {}  # access token -> "facebook" | "github"
        self.seen: list[str] = []  # what the endpoints checked, for assertions
        self.lock = threading.Lock()
        self.server = make_server("127.0.0.1", 0, self.wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> OAuth2Upstream:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def provider_settings(self, preset: str, **extra) -> dict[str, Any]:
        """One FRONTDESK_OAUTH2_PROVIDERS entry pointing the preset at this server."""
        urls = {"facebook": {"authorize_url": self.url + "/v19.0/dialog/oauth",
                             "token_url": self.url + "/v19.0/oauth/access_token",
                             "userinfo_url": self.url + "/v19.0/me?fields=id,name,email"},
                "github": {"authorize_url": self.url + "/login/oauth/authorize",
                           "token_url": self.url + "/login/oauth/access_token",
                           "userinfo_url": self.url + "/api/user",
                           "emails_url": self.url + "/api/user/emails"}}[preset]
        return {"preset": preset, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                **urls, **extra}

    # --- WSGI ----------------------------------------------------------------------------
    def wsgi(self, environ, start_response):
        request = Request(environ)
        routes = {
            "/v19.0/dialog/oauth": lambda: self.authorize(request, "facebook"),
            "/login/oauth/authorize": lambda: self.authorize(request, "github"),
            "/v19.0/oauth/access_token": lambda: self.token(request, "facebook"),
            "/login/oauth/access_token": lambda: self.token(request, "github"),
            "/v19.0/me": lambda: self.facebook_me(request),
            "/api/user": lambda: self.github_api(request, "user"),
            "/api/user/emails": lambda: self.github_api(request, "emails"),
        }
        handler = routes.get(request.path)
        response = handler() if handler else Response("not found", 404)
        return response(environ, start_response)

    def authorize(self, request: Request, shape: str) -> Response:
        args = request.args
        if args.get("client_id") != CLIENT_ID or args.get("response_type") != "code":
            return Response("bad request", 400)
        redirect_uri = args["redirect_uri"]
        if self.behaviour.deny:
            answer = ({"error": "access_denied", "error_reason": "user_denied",
                       "error_description": "Permissions error"} if shape == "facebook"
                      else {"error": "access_denied",
                            "error_description": "The user has denied your application"})
            return _redirect(redirect_uri, {**answer, "state": args.get("state", "")})
        code = secrets.token_urlsafe(16)
        with self.lock:
            self.codes[code] = {"shape": shape, "redirect_uri": redirect_uri,
                                "challenge": args.get("code_challenge", ""),
                                "scope": args.get("scope", "")}
        return _redirect(redirect_uri, {"code": code, "state": args.get("state", "")})

    def token(self, request: Request, shape: str) -> Response:
        form = request.form
        with self.lock:
            grant = self.codes.pop(form.get("code", ""), None)
        problem = self._token_problem(form, grant, shape)
        if problem:
            if shape == "facebook":
                return _json({"error": {"message": problem, "type": "OAuthException",
                                        "code": 100}}, 400)
            return _json({"error": "bad_verification_code", "error_description": problem})
        access_token = secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[access_token] = shape
        if shape == "facebook":
            return _json({"access_token": access_token, "token_type": "bearer",
                          "expires_in": 5183944})
        if request.headers.get("Accept") != "application/json":  # GitHub's default: a form
            return Response(urlencode({"access_token": access_token}),
                            content_type="application/x-www-form-urlencoded")
        return _json({"access_token": access_token, "token_type": "bearer",
                      "scope": "read:user,user:email"})

    def _token_problem(self, form, grant, shape: str) -> str:
        if self.behaviour.token_error or grant is None or grant["shape"] != shape:
            return "This authorization code has been used or has expired."
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return "Error validating client secret."
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return "redirect_uri does not match"
        verifier = form.get("code_verifier", "")
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        if not verifier or digest.rstrip(b"=").decode() != grant["challenge"]:
            return "code_verifier does not match"
        return ""

    def _bearer(self, request: Request, shape: str) -> str | None:
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ").strip() or request.args.get("access_token", "")
        with self.lock:
            return token if self.tokens.get(token) == shape else None

    def facebook_me(self, request: Request) -> Response:
        token = self._bearer(request, "facebook")
        if token is None:
            return _json({"error": {"message": "Invalid OAuth access token.",
                                    "type": "OAuthException", "code": 190}}, 400)
        proof = hmac.new(CLIENT_SECRET.encode(), token.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(request.args.get("appsecret_proof", ""), proof):
            return _json({"error": {"message": "Invalid appsecret_proof provided in the API "
                                    "argument", "type": "GraphMethodException", "code": 100}},
                         400)
        self.seen.append("appsecret_proof ok")
        wanted = request.args.get("fields", "id").split(",")
        user = self.behaviour.facebook_user
        return _json({k: user[k] for k in wanted if user.get(k) is not None})

    def github_api(self, request: Request, what: str) -> Response:
        if self._bearer(request, "github") is None:
            return _json({"message": "Bad credentials"}, 401)
        self.seen.append(f"github {what}")
        if what == "user":
            return _json(self.behaviour.github_user)
        return _json(self.behaviour.github_emails)


def _redirect(uri: str, params: dict[str, str]) -> Response:
    separator = "&" if "?" in uri else "?"
    return Response(status=302, headers={"Location": uri + separator + urlencode(params)})


def _json(data: Any, status: int = 200) -> Response:
    import json

    return Response(json.dumps(data), status=status, content_type="application/json")
