"""An Apple-shaped OpenID provider on 127.0.0.1 for the federation tests (a real HTTP server).

Like Sign in with Apple, it
- answers the authorization request with an auto-submitting form that POSTs `code`, `state`
  and, on the first authorization of a user, the JSON `user` field (response_mode=form_post);
- authenticates the client at the token endpoint with an ES256 client-secret JWT, which it
  VERIFIES against the public half of the .p8 key: header alg/kid, iss = team id,
  sub = client id, aud = issuer, iat/exp (at most six months);
- returns an RS256 ID token with Apple's quirks (booleans as strings, `is_private_email`,
  `nonce_supported`) signed with its own key, published at the JWKS endpoint.
Tests steer it through `behaviour` (who signs in, cancellations, broken ID tokens).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, RSAKey

TEAM_ID = "TEAM123456"
KEY_ID = "KEY7654321"
CLIENT_ID = "com.example.frontdesk"


@dataclass
class AppleUser:
    sub: str = "001234.apple-user.0001"
    email: str = "jane@privaterelay.appleid.com"
    email_verified: Any = "true"
    is_private_email: Any = "true"
    first_name: str = "Jane"
    last_name: str = "Appleseed"


@dataclass
class Behaviour:
    """What the next authorization does; tests change it between logins."""

    user: AppleUser = field(default_factory=AppleUser)
    deny: bool = False  # the user presses Cancel
    send_user_field: bool | None = None  # None: only on the user's first authorization
    claims_override: dict[str, Any] = field(default_factory=dict)  # e.g. aud, exp, nonce
    sign_with_other_key: bool = False  # a key that is not in the JWKS (same kid)


class AppleUpstream:
    def __init__(self, client_public_key: ECKey, host: str = "127.0.0.1") -> None:
        """`host` names the server in its URLs (it always listens on 127.0.0.1): "localhost"
        makes it another site than a Frontdesk on 127.0.0.1, as Apple is for real."""
        self.client_public_key = client_public_key
        self.signing_key = RSAKey.generate_key(2048, parameters={"kid": "apple-1", "use": "sig",
                                                                 "alg": "RS256"})
        self.other_key = RSAKey.generate_key(2048, parameters={"kid": "apple-1"})
        self.behaviour = Behaviour()
        self.codes: dict[str, dict[str, Any]] = {}
        self.authorized_subjects: set[str] = set()
        self.client_secrets_seen: list[str] = []
        self.token_errors: list[str] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.url = f"http://{host}:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)

    # --- lifecycle -----------------------------------------------------------------------
    def start(self) -> AppleUpstream:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def settings(self) -> dict[str, str]:
        """Frontdesk settings that point the Apple provider here."""
        return {"apple_issuer": self.url, "apple_authorize_url": self.url + "/auth/authorize",
                "apple_token_url": self.url + "/auth/token",
                "apple_jwks_url": self.url + "/auth/keys"}

    # --- endpoints -----------------------------------------------------------------------
    def authorize(self, query: dict[str, str]) -> tuple[int, str]:
        missing = [k for k in ("client_id", "redirect_uri", "state", "response_type")
                   if not query.get(k)]
        if missing or query["client_id"] != CLIENT_ID or query.get("response_mode") != "form_post":
            return 400, f"invalid_request: {missing or query}"
        fields = {"state": query["state"]}
        behaviour = self.behaviour
        if behaviour.deny:
            fields["error"] = "user_cancelled_authorize"
            return 200, auto_submit_form(query["redirect_uri"], fields)
        code = secrets.token_urlsafe(24)
        with self.lock:
            self.codes[code] = {"query": query, "user": behaviour.user, "at": time.time()}
            first = behaviour.user.sub not in self.authorized_subjects
            self.authorized_subjects.add(behaviour.user.sub)
        fields["code"] = code
        send_user = first if behaviour.send_user_field is None else behaviour.send_user_field
        if send_user:
            fields["user"] = json.dumps({
                "name": {"firstName": behaviour.user.first_name,
                         "lastName": behaviour.user.last_name},
                "email": behaviour.user.email})
        return 200, auto_submit_form(query["redirect_uri"], fields)

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        problem = self.check_client(form)
        if problem:
            self.token_errors.append(problem)
            return 400, {"error": "invalid_client", "error_description": problem}
        with self.lock:
            grant = self.codes.pop(form.get("code", ""), None)
        if grant is None or grant["query"]["redirect_uri"] != form.get("redirect_uri"):
            self.token_errors.append("bad code or redirect_uri")
            return 400, {"error": "invalid_grant"}
        if not pkce_matches(grant["query"], form.get("code_verifier", "")):
            self.token_errors.append("pkce")
            return 400, {"error": "invalid_grant", "error_description": "PKCE"}
        return 200, {"access_token": secrets.token_urlsafe(16), "token_type": "Bearer",
                     "expires_in": 3600, "refresh_token": secrets.token_urlsafe(16),
                     "id_token": self.id_token(grant)}

    def check_client(self, form: dict[str, str]) -> str | None:
        """Verify the ES256 client-secret JWT the way Apple does."""
        if form.get("client_id") != CLIENT_ID:
            return "client_id"
        secret = form.get("client_secret", "")
        self.client_secrets_seen.append(secret)
        try:
            token = jwt.decode(secret, self.client_public_key, algorithms=["ES256"])
        except (JoseError, ValueError) as exc:
            return f"client_secret signature: {exc.__class__.__name__}"
        now = int(time.time())
        claims, header = token.claims, token.header
        checks = {
            "kid": header.get("kid") == KEY_ID,
            "iss": claims.get("iss") == TEAM_ID,
            "sub": claims.get("sub") == CLIENT_ID,
            "aud": claims.get("aud") == self.url,
            "iat": isinstance(claims.get("iat"), int) and claims["iat"] <= now + 5,
            "exp": isinstance(claims.get("exp"), int) and now < claims["exp"]
            <= claims.get("iat", 0) + 15777000,
        }
        failed = [name for name, ok in checks.items() if not ok]
        return f"client_secret claims: {', '.join(failed)}" if failed else None

    def id_token(self, grant: dict[str, Any]) -> str:
        user: AppleUser = grant["user"]
        now = int(time.time())
        claims = {"iss": self.url, "aud": CLIENT_ID, "exp": now + 600, "iat": now,
                  "sub": user.sub, "at_hash": "x", "email": user.email,
                  "email_verified": user.email_verified,
                  "is_private_email": user.is_private_email, "auth_time": now,
                  "nonce_supported": True}
        if grant["query"].get("nonce"):
            claims["nonce"] = grant["query"]["nonce"]
        claims.update(self.behaviour.claims_override)
        key = self.other_key if self.behaviour.sign_with_other_key else self.signing_key
        return jwt.encode({"alg": "RS256", "kid": "apple-1"}, claims, key, algorithms=["RS256"])

    def jwks(self) -> dict[str, Any]:
        return KeySet([self.signing_key]).as_dict(private=False)


def auto_submit_form(action: str, fields: dict[str, str]) -> str:
    inputs = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                     for k, v in fields.items())
    return ("<!doctype html><html><body onload=\"document.forms[0].submit()\">"
            f'<form method="post" action="{html.escape(action)}">{inputs}'
            "<noscript><button type=\"submit\">Continue</button></noscript></form></body></html>")


def pkce_matches(query: dict[str, str], verifier: str) -> bool:
    challenge = query.get("code_challenge")
    if not challenge:
        return not verifier
    if query.get("code_challenge_method") != "S256" or not verifier:
        return False
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == challenge


def _handler_for(upstream: AppleUpstream):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # keep test output clean
            return

        def _send(self, status: int, body: str, content_type: str) -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            if parts.path == "/auth/authorize":
                status, body = upstream.authorize(query)
                self._send(status, body, "text/html; charset=utf-8")
            elif parts.path == "/auth/keys":
                self._send(200, json.dumps(upstream.jwks()), "application/json")
            else:
                self._send(404, "not found", "text/plain")

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            if urlsplit(self.path).path != "/auth/token":
                self._send(404, "not found", "text/plain")
                return
            status, body = upstream.token(form)
            self._send(status, json.dumps(body), "application/json")

    return Handler


def authorize_query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def form_fields(page: str) -> tuple[str, dict[str, str]]:
    """The action and fields of the auto-submitting form (what a browser would POST)."""
    import re

    action = html.unescape(re.search(r'<form method="post" action="([^"]+)"', page).group(1))
    fields = {html.unescape(m.group(1)): html.unescape(m.group(2))
              for m in re.finditer(r'name="([^"]+)" value="([^"]*)"', page)}
    return action, fields
