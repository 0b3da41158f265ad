"""A small OpenID Connect relying party on aiohttp, generic enough for Frontdesk and the reference.

It learns every endpoint from discovery, walks the authorization code flow through whatever
HTML forms the provider shows (a login form with `password`, a consent form with a `decision`
button), keeps cookies per flow by hand (one shared connection pool, no shared cookie jar), and
checks each ID token's RS256/ES256 signature against the provider's JWKS.

The driver shares the machine's cores with the server it measures, so its own CPU per flow is
kept low without skipping a check: the JWKS is imported once and each key's `cryptography`
public key cached per kid (a signature check is then one library call, no generic JOSE
machinery per token), form bodies and the authorization URL's constant part are encoded once,
and cookies and the code redirect are read with string operations instead of http.cookies and
parse_qs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import html
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import quote_plus, unquote_plus, urlencode, urljoin, urlsplit

import aiohttp
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from joserfc.jwk import KeySet
from yarl import URL

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
    """What discovery and JWKS said, plus what the driver derives from it once."""

    metadata: dict
    keys: KeySet
    _verifiers: dict = field(default_factory=dict, repr=False)  # (kid, alg) -> public key
    _authorize_prefix: dict = field(default_factory=dict, repr=False)  # client -> URL start
    _urls: dict = field(default_factory=dict, repr=False)  # endpoint name -> parsed URL

    def endpoint(self, name: str) -> str:
        url = self.metadata.get(name)
        if not url:
            raise FlowError(f"discovery has no {name}")
        return url

    def endpoint_url(self, name: str) -> URL | str:
        """The endpoint parsed once (aiohttp parses and re-quotes every str it is given)."""
        found = self._urls.get(name)
        if found is None:
            found = self._urls[name] = as_url(self.endpoint(name))
        return found

    def verification_key(self, kid: str | None, alg: str):
        """The JWKS key for a JWS header (RFC 7515 §4.1.4, RFC 7517 §4): by kid, of the key
        type the algorithm needs, not restricted to another use or algorithm. Cached."""
        found = self._verifiers.get((kid, alg))
        if found is None:
            found = self._verifiers[kid, alg] = self._find_key(kid, alg)
        return found

    def _find_key(self, kid: str | None, alg: str):
        kty = _ALGORITHMS[alg][0]
        candidates = [k for k in self.keys.keys
                      if (kid is None or k.kid == kid) and k.key_type == kty
                      and k.get("use", "sig") == "sig" and k.get("alg", alg) == alg]
        if len(candidates) != 1:
            raise FlowError(f"no single JWKS key for kid {kid!r} and {alg} "
                            f"({len(candidates)} match)")
        public = candidates[0].public_key
        if alg == "ES256" and not (isinstance(public, ec.EllipticCurvePublicKey)
                                   and isinstance(public.curve, ec.SECP256R1)):
            raise FlowError(f"JWKS key {kid!r} is not a P-256 key")
        if alg == "RS256" and not isinstance(public, rsa.RSAPublicKey):
            raise FlowError(f"JWKS key {kid!r} is not an RSA key")
        return public


@dataclass
class Tokens:
    access_token: str
    refresh_token: str | None
    id_token: str | None
    claims: dict = field(default_factory=dict)


# A form's start tag, then the next end tag searched from there: a lazy (.*?)</form> would try
# the end tag at every character of the form.
FORM_OPEN_RE = re.compile(r"<form\b([^>]*)>", re.I)
FORM_CLOSE_RE = re.compile(r"</form\s*>", re.I)
FIELD_RE = re.compile(r"<(input|button)\b([^>]*)>", re.I)
ATTR_RE = re.compile(
    r"""([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""")


def _attrs(raw: str) -> dict[str, str]:
    attrs = {}
    for name, double, single, bare in ATTR_RE.findall(raw):
        value = double or single or bare
        attrs[name.lower()] = html.unescape(value) if "&" in value else value
    return attrs


def parse_forms(page: str) -> list[dict]:
    """Each <form>'s action, method, inputs and submit buttons (regular expressions: the
    standard library's HTMLParser costs milliseconds per page, more than the server's work)."""
    forms, position = [], 0
    while (start := FORM_OPEN_RE.search(page, position)) is not None:
        end = FORM_CLOSE_RE.search(page, start.end())
        if end is None:
            break
        position = end.end()
        attrs = _attrs(start.group(1))
        form = {"action": attrs.get("action", ""), "method": attrs.get("method", "get").lower(),
                "fields": {}, "buttons": {}}
        for tag, raw in FIELD_RE.findall(page, start.end(), end.start()):
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
    return {"Authorization": _basic(rp.client_id, rp.client_secret)}


@lru_cache(maxsize=16)
def _basic(client_id: str, client_secret: str) -> str:
    token = base64.b64encode(f"{quote_plus(client_id)}:{quote_plus(client_secret)}".encode())
    return "Basic " + token.decode()


@lru_cache(maxsize=16)
def _token_headers(client_id: str, client_secret: str) -> dict[str, str]:
    """Shared between requests: aiohttp copies it, nothing may change it."""
    return {"Authorization": _basic(client_id, client_secret), "Content-Type": FORM_TYPE}


FORM_TYPE = "application/x-www-form-urlencoded"
_ENCODED_URL = re.compile(r"[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=%-]*").fullmatch


def as_url(url: str) -> URL | str:
    """A URL made only of characters that are legal encoded (RFC 3986 §2) as a yarl.URL marked
    encoded, so aiohttp does not quote it again; anything else as it is, for aiohttp to quote."""
    return URL(url, encoded=True) if _ENCODED_URL(url) else url

_URL_SAFE = re.compile(r"[A-Za-z0-9_.~-]*").fullmatch  # what quote_plus leaves as it is


@lru_cache(maxsize=256)
def _quote_plus(value: str) -> str:
    return quote_plus(value)


def _escape(value: str) -> str:
    return value if _URL_SAFE(value) else _quote_plus(value)


def form_body(fields: dict[str, str]) -> bytes:
    """The bytes urlencode(fields) gives for str values; random tokens (URL-safe already) skip
    the quoting, emails and redirect URIs are quoted once (a bounded set)."""
    return "&".join(f"{_escape(k)}={_escape(v)}" for k, v in fields.items()).encode()


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


_SHA256 = hashes.SHA256()
# alg -> (JWK kty, verify(public key, signature, signing input)); nothing else is accepted.
_ALGORITHMS = {
    "RS256": ("RSA", lambda key, sig, data: key.verify(sig, data, padding.PKCS1v15(), _SHA256)),
    "ES256": ("EC", lambda key, sig, data: key.verify(_der_from_raw(sig), data,
                                                      ec.ECDSA(_SHA256))),
}


def _der_from_raw(sig: bytes) -> bytes:
    """JWS ES256 signatures are R || S, 32 bytes each (RFC 7518 §3.4); cryptography wants DER."""
    if len(sig) != 64:
        raise FlowError("ES256 signature is not 64 bytes")
    return encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))


def _b64decode(segment: str) -> bytes:
    """base64url without padding (RFC 7515 §2), strict: no characters outside the alphabet."""
    padded = segment.translate(_FROM_URLSAFE) + "=" * (-len(segment) % 4)
    return binascii.a2b_base64(padded, strict_mode=True)


_FROM_URLSAFE = str.maketrans("-_", "+/")


def verify_jws(provider: Provider, token: str) -> dict:
    """A compact JWS (RFC 7515 §5.2) signed RS256 or ES256 by a key of the provider's JWKS;
    returns its JSON payload. Any defect raises FlowError."""
    try:
        header_b64, payload_b64, signature_b64 = token.split(".")
        header = json.loads(_b64decode(header_b64))
        alg = header.get("alg")
        if alg not in _ALGORITHMS:
            raise FlowError(f"ID token alg {alg!r} not accepted")
        if "crit" in header:  # no extension is understood here (RFC 7515 §4.1.11)
            raise FlowError("ID token has critical header parameters")
        key = provider.verification_key(header.get("kid"), alg)
        signing_input = token[:len(header_b64) + 1 + len(payload_b64)].encode("ascii")
        _ALGORITHMS[alg][1](key, _b64decode(signature_b64), signing_input)
        claims = json.loads(_b64decode(payload_b64))
    except InvalidSignature as exc:
        raise FlowError("ID token signature invalid") from exc
    except (ValueError, AttributeError, TypeError) as exc:  # split, base64, JSON, not objects
        raise FlowError(f"ID token malformed: {exc}") from exc
    if not isinstance(claims, dict):
        raise FlowError("ID token payload is not a JSON object")
    return claims


def check_id_token(provider: Provider, rp: Relying, id_token: str, nonce: str | None) -> dict:
    """Signature via JWKS (OIDC Core §3.1.3.7) plus iss, aud, exp and nonce."""
    claims = verify_jws(provider, id_token)
    if claims.get("iss") != provider.metadata["issuer"]:
        raise FlowError("ID token iss mismatch")
    aud = claims.get("aud")
    if rp.client_id not in (aud if isinstance(aud, list) else [aud]):
        raise FlowError("ID token aud mismatch")
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or exp < time.time():
        raise FlowError("ID token expired or without exp")
    if nonce is not None and claims.get("nonce") != nonce:
        raise FlowError("ID token nonce mismatch")
    return claims


class Browser:
    """Cookies of one flow, kept by hand (the session's jar is a DummyCookieJar)."""

    def __init__(self, http: aiohttp.ClientSession) -> None:
        self.http = http
        self.cookies: dict[str, str] = {}

    def _headers(self, body: bytes | None) -> dict[str, str]:
        headers = {"Content-Type": FORM_TYPE} if body is not None else {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return headers

    def _remember(self, resp: aiohttp.ClientResponse) -> None:
        for header in resp.headers.getall("Set-Cookie", ()):
            name, value, expired = parse_set_cookie(header)
            if not name:
                continue
            if expired or not value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value

    async def request(self, method: str, url: str, body: bytes | None = None):
        """One request, no redirect followed; `body` is a form (form_body)."""
        async with self.http.request(method, as_url(url), data=body,
                                     headers=self._headers(body), allow_redirects=False) as resp:
            self._remember(resp)
            text = await resp.text() if resp.status == 200 else await resp.read()
            return resp.status, resp.headers.get("Location"), text


_MAX_AGE_GONE = re.compile(r"(?:^|;)\s*max-age\s*=\s*(?:0+|-\d+)\s*(?:;|$)", re.I).search


def parse_set_cookie(header: str) -> tuple[str, str, bool]:
    """(name, value, deleted) of a Set-Cookie header (RFC 6265 §5.2): the value as sent, and
    whether Max-Age removes it at once (§5.2.2: zero or negative)."""
    pair, _, attributes = header.partition(";")
    name, _, value = pair.partition("=")
    return name.strip(), value.strip(), bool(attributes and _MAX_AGE_GONE(attributes))


def _fill_form(form: dict, account: Account) -> dict[str, str]:
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
    url = authorization_url(provider, rp, challenge, state, nonce)
    method, body = "GET", None
    for _ in range(MAX_HOPS):
        status, location, page = await browser.request(method, url, body)
        if status in (301, 302, 303, 307) and location:
            url, method, body = resolve_url(url, location), "GET", None
            if url.startswith(rp.redirect_uri):
                return _code_from(url, state)
        elif status == 200:
            form = _pick_form(page)
            url = resolve_url(url, form["action"]) if form["action"] else url
            method, body = "POST", form_body(_fill_form(form, account))
        else:
            raise FlowError(f"{method} {urlsplit(url).path} answered {status}")
    raise FlowError("too many hops in the authorization flow")


def authorization_url(provider: Provider, rp: Relying, challenge: str, state: str,
                      nonce: str) -> str:
    """PKCE S256 (RFC 7636 §4.3), state and nonce; the constant part is encoded once."""
    key = (rp.client_id, rp.redirect_uri, rp.scope)
    prefix = provider._authorize_prefix.get(key)
    if prefix is None:
        prefix = provider._authorize_prefix[key] = (
            provider.endpoint("authorization_endpoint") + "?" + urlencode({
                "response_type": "code", "client_id": rp.client_id,
                "redirect_uri": rp.redirect_uri, "scope": rp.scope,
                "code_challenge_method": "S256"}))
    return (f"{prefix}&state={_escape(state)}&nonce={_escape(nonce)}"
            f"&code_challenge={_escape(challenge)}")


def resolve_url(base: str, reference: str) -> str:
    """urljoin, without its parsing for the two shapes servers send: absolute http(s) URLs
    and absolute paths."""
    if reference.startswith(("http://", "https://")):
        return reference
    if reference.startswith("/") and not reference.startswith("//"):
        scheme_end = base.find("://")
        path_start = base.find("/", scheme_end + 3) if scheme_end > 0 else -1
        if path_start > 0 and "?" not in base[:path_start] and "#" not in base[:path_start]:
            return base[:path_start] + reference
    return urljoin(base, reference)


def query_params(url: str) -> dict[str, str]:
    """The first value of each query parameter (what parse_qs(...)[name][0] gives), blank
    values dropped as parse_qs does."""
    params: dict[str, str] = {}
    for item in url.partition("#")[0].partition("?")[2].split("&"):
        name, _, value = item.partition("=")
        if not value:
            continue
        if "%" in item or "+" in item:
            name, value = unquote_plus(name), unquote_plus(value)
        params.setdefault(name, value)
    return params


def _code_from(url: str, state: str) -> str:
    """The authorization response (RFC 6749 §4.1.2): an error, or the code with our state."""
    query = query_params(url)
    if "error" in query:
        raise FlowError(f"authorization error {query['error']}")
    if query.get("state") != state:
        raise FlowError("state mismatch")
    if "code" not in query:
        raise FlowError("authorization response without a code")
    return query["code"]


async def token_request(http: aiohttp.ClientSession, provider: Provider, rp: Relying,
                        form: dict) -> dict:
    async with http.post(provider.endpoint_url("token_endpoint"), data=form_body(form),
                         headers=_token_headers(rp.client_id, rp.client_secret)) as resp:
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
    async with http.post(provider.endpoint("introspection_endpoint"),
                         data=form_body({"token": token}),
                         headers=_token_headers(rp.client_id, rp.client_secret)) as resp:
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
