"""A small OpenID Connect relying party on aiohttp, generic enough for Frontdesk and the reference.

It learns every endpoint from discovery, walks the authorization code flow through whatever
HTML forms the provider shows (a login form with `password`, a consent form with a `decision`
button), keeps cookies per flow by hand (one shared connection pool, no shared cookie jar), and
checks each ID token's RS256/ES256 signature against the provider's JWKS.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, quote_plus, urlencode, urljoin, urlsplit

import aiohttp
from joserfc import jwt
from joserfc.jwk import KeySet

MAX_HOPS = 12


class FlowError(Exception):
    """The provider answered something a correct flow never sees."""


@dataclass
class Account:
    email: str
    password: str


@dataclass
class Relying:
    """Static facts about the client the bench plays."""

    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    scope: str = "openid email profile offline_access"


@dataclass
class Provider:
    """What discovery and JWKS said."""

    metadata: dict
    keys: KeySet

    def endpoint(self, name: str) -> str:
        url = self.metadata.get(name)
        if not url:
            raise FlowError(f"discovery has no {name}")
        return url


@dataclass
class Tokens:
    access_token: str
    refresh_token: str | None
    id_token: str | None
    claims: dict = field(default_factory=dict)


FORM_RE = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.I | re.S)
FIELD_RE = re.compile(r"<(input|button)\b([^>]*)>", re.I)
ATTR_RE = re.compile(
    r"""([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""")


def _attrs(raw: str) -> dict[str, str]:
    return {m.group(1).lower(): html.unescape(m.group(2) or m.group(3) or m.group(4) or "")
            for m in ATTR_RE.finditer(raw)}


def parse_forms(page: str) -> list[dict]:
    """Each <form>'s action, method, inputs and submit buttons (regular expressions: the
    standard library's HTMLParser costs milliseconds per page, more than the server's work)."""
    forms = []
    for form_match in FORM_RE.finditer(page):
        attrs = _attrs(form_match.group(1))
        form = {"action": attrs.get("action", ""), "method": attrs.get("method", "get").lower(),
                "fields": {}, "buttons": {}}
        for tag, raw in FIELD_RE.findall(form_match.group(2)):
            a = _attrs(raw)
            if not a.get("name"):
                continue
            kind = a.get("type", "submit" if tag.lower() == "button" else "text").lower()
            target = form["buttons" if kind == "submit" else "fields"]
            target.setdefault(a["name"], []).append(a.get("value", ""))
        forms.append(form)
    return forms


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def basic_auth(rp: Relying) -> dict[str, str]:
    """client_secret_basic (RFC 6749 §2.3.1: form-encode, then Basic)."""
    user, password = quote_plus(rp.client_id), quote_plus(rp.client_secret)
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


async def discover(http: aiohttp.ClientSession, issuer: str) -> Provider:
    async with http.get(issuer + "/.well-known/openid-configuration") as resp:
        if resp.status != 200:
            raise FlowError(f"discovery answered {resp.status}")
        metadata = await resp.json()
    async with http.get(metadata["jwks_uri"]) as resp:
        if resp.status != 200:
            raise FlowError(f"JWKS answered {resp.status}")
        jwks = await resp.json()
    return Provider(metadata, KeySet.import_key_set(jwks))


def check_id_token(provider: Provider, rp: Relying, id_token: str, nonce: str | None) -> dict:
    """Signature via JWKS (OIDC Core §3.1.3.7) plus iss, aud, exp and nonce."""
    try:
        token = jwt.decode(id_token, provider.keys, algorithms=["RS256", "ES256"])
    except Exception as exc:  # joserfc raises several types; all mean "invalid"
        raise FlowError(f"ID token rejected: {exc}") from exc
    claims = token.claims
    if claims.get("iss") != provider.metadata["issuer"]:
        raise FlowError("ID token iss mismatch")
    aud = claims.get("aud")
    if rp.client_id not in (aud if isinstance(aud, list) else [aud]):
        raise FlowError("ID token aud mismatch")
    if claims.get("exp", 0) < time.time():
        raise FlowError("ID token expired")
    if nonce is not None and claims.get("nonce") != nonce:
        raise FlowError("ID token nonce mismatch")
    return claims


class Browser:
    """Cookies of one flow, kept by hand (the session's jar is a DummyCookieJar)."""

    def __init__(self, http: aiohttp.ClientSession) -> None:
        self.http = http
        self.cookies: dict[str, str] = {}

    def _headers(self) -> dict[str, str]:
        if not self.cookies:
            return {}
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}

    def _remember(self, resp: aiohttp.ClientResponse) -> None:
        for header in resp.headers.getall("Set-Cookie", []):
            jar = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    async def request(self, method: str, url: str, data: dict | None = None):
        async with self.http.request(method, url, data=data, headers=self._headers(),
                                     allow_redirects=False) as resp:
            self._remember(resp)
            body = await resp.text() if resp.status == 200 else await resp.read()
            return resp.status, resp.headers.get("Location"), body


def _fill_form(form: dict, account: Account) -> dict:
    data = {name: values[0] for name, values in form["fields"].items()}
    if "password" in data:
        data.update(email=account.email, password=account.password)
    elif "decision" in form["buttons"]:
        data["decision"] = "allow"
    else:
        raise FlowError(f"unexpected form with fields {sorted(data)}")
    return data


def _pick_form(html: str) -> dict:
    for form in parse_forms(html):
        if form["method"] == "post" and ("password" in form["fields"]
                                         or "decision" in form["buttons"]):
            return form
    raise FlowError("page has no login or consent form")


async def authorize(browser: Browser, provider: Provider, rp: Relying, account: Account,
                    challenge: str, state: str, nonce: str) -> str:
    """Authorization request through the hosted pages to the code (RFC 6749 §4.1, RFC 7636)."""
    url = provider.endpoint("authorization_endpoint") + "?" + urlencode({
        "response_type": "code", "client_id": rp.client_id, "redirect_uri": rp.redirect_uri,
        "scope": rp.scope, "state": state, "nonce": nonce,
        "code_challenge": challenge, "code_challenge_method": "S256"})
    method, data = "GET", None
    for _ in range(MAX_HOPS):
        status, location, body = await browser.request(method, url, data)
        if status in (301, 302, 303, 307) and location:
            url, method, data = urljoin(url, location), "GET", None
            if url.startswith(rp.redirect_uri):
                return _code_from(url, state)
        elif status == 200:
            form = _pick_form(body)
            url, method, data = urljoin(url, form["action"] or url), "POST", _fill_form(
                form, account)
        else:
            raise FlowError(f"{method} {urlsplit(url).path} answered {status}")
    raise FlowError("too many hops in the authorization flow")


def _code_from(url: str, state: str) -> str:
    query = parse_qs(urlsplit(url).query)
    if "error" in query:
        raise FlowError(f"authorization error {query['error'][0]}")
    if query.get("state", [""])[0] != state:
        raise FlowError("state mismatch")
    return query["code"][0]


async def token_request(http: aiohttp.ClientSession, provider: Provider, rp: Relying,
                        form: dict) -> dict:
    async with http.post(provider.endpoint("token_endpoint"), data=form,
                         headers=basic_auth(rp)) as resp:
        body = await resp.json(content_type=None)
        if resp.status != 200:
            raise FlowError(f"token endpoint {resp.status}: {body.get('error')}")
        return body


async def login_flow(http: aiohttp.ClientSession, provider: Provider, rp: Relying,
                     account: Account) -> Tokens:
    """Authorize with PKCE -> login form -> (consent) -> code -> token -> ID token check."""
    verifier, challenge = pkce_pair()
    state, nonce = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
    code = await authorize(Browser(http), provider, rp, account, challenge, state, nonce)
    body = await token_request(http, provider, rp, {
        "grant_type": "authorization_code", "code": code, "redirect_uri": rp.redirect_uri,
        "code_verifier": verifier})
    if "id_token" not in body:
        raise FlowError("no ID token from the code exchange")
    claims = check_id_token(provider, rp, body["id_token"], nonce)
    return Tokens(body["access_token"], body.get("refresh_token"), body["id_token"], claims)


async def refresh(http: aiohttp.ClientSession, provider: Provider, rp: Relying,
                  tokens: Tokens) -> Tokens:
    """RFC 6749 §6 with rotation: the new refresh token replaces the old one."""
    body = await token_request(http, provider, rp, {
        "grant_type": "refresh_token", "refresh_token": tokens.refresh_token})
    if not body.get("refresh_token") or body["refresh_token"] == tokens.refresh_token:
        raise FlowError("refresh token was not rotated")
    if "id_token" not in body:
        raise FlowError("no new ID token on refresh")
    check_id_token(provider, rp, body["id_token"], None)
    return Tokens(body["access_token"], body["refresh_token"], body["id_token"])


async def client_credentials(http: aiohttp.ClientSession, provider: Provider,
                             rp: Relying) -> str:
    body = await token_request(http, provider, rp, {"grant_type": "client_credentials"})
    return body["access_token"]


async def userinfo(http: aiohttp.ClientSession, provider: Provider, access_token: str) -> dict:
    async with http.get(provider.endpoint("userinfo_endpoint"),
                        headers={"Authorization": f"Bearer {access_token}"}) as resp:
        if resp.status != 200:
            raise FlowError(f"userinfo answered {resp.status}")
        body = await resp.json(content_type=None)
    if not body.get("sub"):
        raise FlowError("userinfo without sub")
    return body


async def introspect(http: aiohttp.ClientSession, provider: Provider, rp: Relying,
                     token: str) -> dict:
    async with http.post(provider.endpoint("introspection_endpoint"), data={"token": token},
                         headers=basic_auth(rp)) as resp:
        if resp.status != 200:
            raise FlowError(f"introspection answered {resp.status}")
        body = await resp.json(content_type=None)
    if body.get("active") is not True:
        raise FlowError("introspection says the token is not active")
    return body


async def fetch(http: aiohttp.ClientSession, url: str) -> int:
    async with http.get(url) as resp:
        body = await resp.read()
        if resp.status != 200 or not body:
            raise FlowError(f"GET {url} answered {resp.status}")
        return len(body)
