"""Building authorization requests and reading protocol responses in tests.

Importable by every test package:

    from tests.oauth.helpers import AuthorizationRequest, redirect_params, assert_redirect_error

    req = AuthorizationRequest(client_id, redirect_uri)          # state, nonce, PKCE (S256)
    response = client.get(req.url(prompt="none"))
    assert_redirect_error(response, req, "login_required")
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urlsplit

ISSUER = "http://127.0.0.1:5000"


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class AuthorizationRequest:
    """One authorization request with fresh state, nonce and PKCE verifier."""

    client_id: str
    redirect_uri: str
    scope: str = "openid profile email"
    state: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    code_verifier: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    pkce: bool = True
    extra: dict = field(default_factory=dict)

    @property
    def code_challenge(self) -> str:
        return s256(self.code_verifier)

    def params(self, **overrides) -> dict:
        """The request's parameters; an override of None removes the parameter."""
        params = {"response_type": "code", "client_id": self.client_id,
                  "redirect_uri": self.redirect_uri, "scope": self.scope,
                  "state": self.state, "nonce": self.nonce}
        if self.pkce:
            params.update(code_challenge=self.code_challenge, code_challenge_method="S256")
        params.update(self.extra)
        params.update(overrides)
        return {k: v for k, v in params.items() if v is not None}

    def url(self, base: str = "", **overrides) -> str:
        return f"{base}/oauth2/authorize?{urlencode(self.params(**overrides))}"

    def token_form(self, code: str, **overrides) -> dict:
        form = {"grant_type": "authorization_code", "code": code,
                "redirect_uri": self.redirect_uri}
        if self.pkce:
            form["code_verifier"] = self.code_verifier
        form.update(overrides)
        return {k: v for k, v in form.items() if v is not None}


def redirect_params(response_or_location) -> dict[str, str]:
    """Query parameters of a redirect (a response with Location, or a URL)."""
    location = getattr(response_or_location, "location", None) or response_or_location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def interaction_id(response) -> str:
    """The interaction id of a redirect to a hosted page."""
    assert response.status_code in (302, 303), response.status_code
    return redirect_params(response)["interaction"]


def assert_redirect_error(response, req: AuthorizationRequest, error: str,
                          issuer: str = ISSUER) -> dict[str, str]:
    """The response sends `error` to the client's redirect URI with state and iss."""
    assert response.status_code in (302, 303), (response.status_code, response.data[:300])
    assert response.location.startswith(req.redirect_uri + "?"), response.location
    params = redirect_params(response)
    assert params.get("error") == error, params
    assert params.get("state") == req.state
    assert params.get("iss") == issuer
    return params


def assert_error_page(response, status: int = 400) -> None:
    """An error page at Frontdesk: never a redirect to the client."""
    assert response.status_code == status, (response.status_code, response.location)
    assert "Location" not in response.headers
    assert response.mimetype == "text/html"


def basic_auth(client_id: str, secret: str) -> dict[str, str]:
    from urllib.parse import quote

    raw = f"{quote(client_id, safe='')}:{quote(secret, safe='')}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def jwks_of(test_client) -> dict:
    response = test_client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    return response.get_json()


def verify_jwt(test_client, token: str, typ: str | None = None) -> tuple[dict, dict]:
    """(header, claims) of a token verified against the published JWKS, as an RP would."""
    from joserfc import jwt
    from joserfc.jwk import KeySet

    keys = KeySet.import_key_set(jwks_of(test_client))
    decoded = jwt.decode(token, keys, algorithms=["RS256", "ES256"])
    if typ is not None:
        assert decoded.header.get("typ") == typ, decoded.header
    assert decoded.header.get("kid"), decoded.header
    return dict(decoded.header), dict(decoded.claims)
