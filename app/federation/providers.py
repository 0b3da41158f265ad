"""Upstream identity providers from Settings: Google, Apple, generic OIDC upstreams, plain
OAuth 2.0 upstreams (Facebook, GitHub presets, or any provider with a user-info endpoint)
and SAML 2.0 identity providers.

Parsed once per app at start-up (a malformed setting stops the start with a message that
names the variable); the result and the per-process caches live in
`frontdesk_state().extras["federation"]`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from app.config import ConfigError, Settings
from app.extensions import frontdesk_state
from app.federation import apple, facebook, github, google
from app.federation.apple import AppleClientSecret, AppleKeyError

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
ATTRIBUTE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_:.-]{0,63}$")
RESERVED_ATTRIBUTES = frozenset({"sub", "email", "email_verified", "groups", "password"})
GENERIC_MAPPING = {"name": "name", "given_name": "given_name", "family_name": "family_name"}
GENERIC_KEYS = frozenset({
    "name", "label", "discovery_url", "client_id", "client_secret", "scopes", "trust_email",
    "attribute_mapping", "update_attributes_on_login", "token_endpoint_auth_method"})
AUTH_METHODS = frozenset({"client_secret_basic", "client_secret_post"})
OAUTH2_KEYS = frozenset({
    "name", "label", "preset", "client_id", "client_secret", "authorize_url", "token_url",
    "userinfo_url", "emails_url", "scopes", "trust_email", "attribute_mapping",
    "update_attributes_on_login", "token_endpoint_auth_method", "id_field", "email_field",
    "email_verified_field", "name_field"})
SAML_KEYS = frozenset({
    "name", "label", "metadata_url", "metadata_file", "idp_entity_id", "entity_id",
    "attribute_mapping", "email_attribute", "trust_email", "update_attributes_on_login",
    "name_id_format", "idp_initiated"})
SAML_MAPPING = {"displayName": "name", "givenName": "given_name", "sn": "family_name"}
SAML_EMAIL_ATTRIBUTES = ("email", "mail", "emailAddress",
                         "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress")
SAML_ATTRIBUTE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_:./#-]{0,255}$")
RESERVED_NAMES = frozenset({"link"})


@dataclass(frozen=True)
class SamlIdp:
    """Where a SAML identity provider's metadata comes from and how its answers are read."""

    metadata_url: str = ""
    metadata_file: str = ""
    idp_entity_id: str = ""  # needed only when the metadata lists several IdPs
    entity_id: str = ""  # our SP entity id; empty: the SP metadata URL
    email_attributes: tuple[str, ...] = SAML_EMAIL_ATTRIBUTES
    name_id_format: str = ""
    idp_initiated: bool = False


@dataclass(frozen=True)
class ProfileFields:
    """Where a plain OAuth 2.0 upstream's user-info answer keeps each fact (dotted paths);
    no `email_verified` field means the e-mail is never taken as verified."""

    id: str = "id"
    email: str = "email"
    email_verified: str = ""
    name: str = "name"


@dataclass(frozen=True)
class OAuth2Preset:
    label: str
    authorize_url: str
    token_url: str
    userinfo_url: str
    scopes: str
    mapping: dict[str, str]
    trust_email: bool
    emails_url: str = ""
    appsecret_proof: bool = False


PRESETS = {
    facebook.NAME: OAuth2Preset(
        label=facebook.LABEL, authorize_url=facebook.AUTHORIZE_URL,
        token_url=facebook.TOKEN_URL, userinfo_url=facebook.USERINFO_URL,
        scopes=facebook.SCOPES, mapping=facebook.DEFAULT_MAPPING, trust_email=False,
        appsecret_proof=True),
    github.NAME: OAuth2Preset(
        label=github.LABEL, authorize_url=github.AUTHORIZE_URL, token_url=github.TOKEN_URL,
        userinfo_url=github.USERINFO_URL, emails_url=github.EMAILS_URL, scopes=github.SCOPES,
        mapping=github.DEFAULT_MAPPING, trust_email=True),
}


@dataclass(frozen=True)
class Provider:
    """One configured upstream, as the flow needs it."""

    name: str  # URL segment: /federation/<name>/start
    kind: str  # "google" | "apple" | "oidc" | "oauth2"
    label: str  # display name: the login page shows "Continue with <label>"
    client_id: str
    client_secret: str = ""  # Apple: generated per request by `apple_secret`
    scopes: tuple[str, ...] = ("openid", "email", "profile")
    trust_email: bool = False
    attribute_mapping: dict[str, str] = field(default_factory=dict)
    update_attributes_on_login: bool = False
    discovery_url: str = ""
    # Static metadata (Apple publishes no discovery document we rely on).
    issuer: str = ""
    authorization_endpoint: str = ""
    token_endpoint: str = ""
    jwks_uri: str = ""
    response_mode: str | None = None
    token_endpoint_auth_method: str = "client_secret_basic"  # noqa: S105 - a method name
    apple_secret: AppleClientSecret | None = field(default=None, compare=False, repr=False)
    # Plain OAuth 2.0 upstreams: who the user is comes from user-info, not an ID token.
    userinfo_endpoint: str = ""
    emails_endpoint: str = ""  # GitHub's /user/emails
    profile: ProfileFields = field(default_factory=ProfileFields)
    appsecret_proof: bool = False  # Facebook's Graph API
    saml: SamlIdp | None = None

    @property
    def uses_form_post(self) -> bool:
        return self.response_mode == "form_post"

    def current_client_secret(self) -> str:
        return self.apple_secret.current() if self.apple_secret else self.client_secret


def load_providers(settings: Settings) -> dict[str, Provider]:
    """Every configured provider, in button order: Google, Apple, then the generic ones."""
    found = [p for p in (google_provider(settings), apple_provider(settings)) if p]
    found.extend(oidc_providers(settings))
    found.extend(oauth2_providers(settings))
    found.extend(saml_providers(settings))
    providers: dict[str, Provider] = {}
    for provider in found:
        if provider.name in providers:
            raise ConfigError(f"FRONTDESK_OIDC_PROVIDERS / OAUTH2_PROVIDERS: provider name "
                              f"{provider.name!r} is used twice")
        providers[provider.name] = provider
    return providers


def configured_providers() -> dict[str, Provider]:
    return frontdesk_state().extras["federation"].providers


def google_provider(settings: Settings) -> Provider | None:
    if not settings.google_client_id:
        return None
    if not settings.google_client_secret:
        raise ConfigError("FRONTDESK_GOOGLE_CLIENT_SECRET is needed with GOOGLE_CLIENT_ID")
    check_url(settings, "FRONTDESK_GOOGLE_DISCOVERY_URL", settings.google_discovery_url)
    return Provider(
        name=google.NAME, kind="google", label=google.LABEL,
        client_id=settings.google_client_id, client_secret=settings.google_client_secret,
        scopes=parse_scopes("FRONTDESK_GOOGLE_SCOPES", settings.google_scopes),
        trust_email=settings.google_trust_email,
        attribute_mapping=parse_mapping("FRONTDESK_GOOGLE_ATTRIBUTE_MAPPING",
                                        settings.google_attribute_mapping,
                                        google.DEFAULT_MAPPING),
        update_attributes_on_login=settings.google_update_attributes_on_login,
        discovery_url=settings.google_discovery_url)


def apple_provider(settings: Settings) -> Provider | None:
    if not settings.apple_client_id:
        return None
    for name in ("apple_team_id", "apple_key_id", "apple_private_key_path"):
        if not getattr(settings, name):
            raise ConfigError(f"FRONTDESK_{name.upper()} is needed with APPLE_CLIENT_ID")
    for name in ("apple_issuer", "apple_authorize_url", "apple_token_url", "apple_jwks_url"):
        check_url(settings, f"FRONTDESK_{name.upper()}", getattr(settings, name))
    lifetime = settings.apple_client_secret_seconds
    if not apple.MIN_SECRET_SECONDS <= lifetime <= apple.MAX_SECRET_SECONDS:
        raise ConfigError("FRONTDESK_APPLE_CLIENT_SECRET_SECONDS must be between "
                          f"{apple.MIN_SECRET_SECONDS} and {apple.MAX_SECRET_SECONDS}")
    try:
        key = apple.load_private_key(settings.apple_private_key_path)
    except AppleKeyError as exc:
        raise ConfigError(f"FRONTDESK_APPLE_PRIVATE_KEY_PATH: {exc}") from None
    secret = AppleClientSecret(
        team_id=settings.apple_team_id, key_id=settings.apple_key_id,
        client_id=settings.apple_client_id, audience=settings.apple_issuer, key=key,
        lifetime_seconds=lifetime)
    return Provider(
        name=apple.NAME, kind="apple", label=apple.LABEL, client_id=settings.apple_client_id,
        scopes=parse_scopes("FRONTDESK_APPLE_SCOPES", settings.apple_scopes, openid=False),
        trust_email=settings.apple_trust_email,
        attribute_mapping=parse_mapping("FRONTDESK_APPLE_ATTRIBUTE_MAPPING",
                                        settings.apple_attribute_mapping, apple.DEFAULT_MAPPING),
        update_attributes_on_login=settings.apple_update_attributes_on_login,
        issuer=settings.apple_issuer, authorization_endpoint=settings.apple_authorize_url,
        token_endpoint=settings.apple_token_url, jwks_uri=settings.apple_jwks_url,
        response_mode="form_post",
        token_endpoint_auth_method="client_secret_post",  # noqa: S106 - a method name
        apple_secret=secret)


def json_entries(var: str, raw: str) -> list[dict[str, Any]]:
    """A provider setting's JSON list of objects; empty text is an empty list."""
    if not raw.strip():
        return []
    try:
        entries = json.loads(raw)
    except ValueError as exc:
        raise ConfigError(f"{var} is not valid JSON: {exc}") from None
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ConfigError(f"{var} must be a JSON list of objects")
    return entries


def oidc_providers(settings: Settings) -> list[Provider]:
    """FRONTDESK_OIDC_PROVIDERS: a JSON list of objects, one per generic upstream."""
    var = "FRONTDESK_OIDC_PROVIDERS"
    return [_oidc_provider(settings, f"{var}[{i}]", entry)
            for i, entry in enumerate(json_entries(var, settings.oidc_providers))]


def oauth2_providers(settings: Settings) -> list[Provider]:
    """FRONTDESK_OAUTH2_PROVIDERS: a JSON list of plain OAuth 2.0 upstreams, each either a
    preset (`"preset": "facebook"` or `"github"`, URLs overridable) or fully declared."""
    var = "FRONTDESK_OAUTH2_PROVIDERS"
    return [_oauth2_provider(settings, f"{var}[{i}]", entry)
            for i, entry in enumerate(json_entries(var, settings.oauth2_providers))]


def _oauth2_provider(settings: Settings, where: str, entry: dict[str, Any]) -> Provider:
    unknown = sorted(set(entry) - OAUTH2_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown keys {', '.join(unknown)}")
    preset_name = _optional_str(where, entry, "preset")
    if preset_name and preset_name not in PRESETS:
        raise ConfigError(f"{where}: preset must be one of {', '.join(sorted(PRESETS))}")
    preset = PRESETS.get(preset_name)
    name = _optional_str(where, entry, "name") or preset_name
    check_name(where, name)
    urls = {}
    for key in ("authorize_url", "token_url", "userinfo_url", "emails_url"):
        urls[key] = _optional_str(where, entry, key) or (getattr(preset, key) if preset else "")
        if urls[key] or key != "emails_url":
            check_url(settings, f"{where}.{key}", urls[key])
    auth_method = entry.get("token_endpoint_auth_method", "client_secret_post")
    if auth_method not in AUTH_METHODS:
        raise ConfigError(f"{where}: token_endpoint_auth_method must be one of "
                          f"{', '.join(sorted(AUTH_METHODS))}")
    fields = {k: _optional_str(where, entry, f"{k}_field")
              for k in ("id", "email", "email_verified", "name") if f"{k}_field" in entry}
    trust = entry.get("trust_email", preset.trust_email if preset else False)
    return Provider(
        name=name, kind="oauth2",
        label=_optional_str(where, entry, "label") or (preset.label if preset else name.title()),
        client_id=_required_str(where, entry, "client_id"),
        client_secret=_required_str(where, entry, "client_secret"),
        scopes=parse_scopes(f"{where}.scopes",
                            entry.get("scopes", preset.scopes if preset else ""), openid=False),
        trust_email=_optional_bool(where, {"trust_email": trust}, "trust_email"),
        attribute_mapping=parse_mapping(f"{where}.attribute_mapping",
                                        entry.get("attribute_mapping"),
                                        preset.mapping if preset else GENERIC_MAPPING),
        update_attributes_on_login=_optional_bool(where, entry, "update_attributes_on_login"),
        authorization_endpoint=urls["authorize_url"], token_endpoint=urls["token_url"],
        userinfo_endpoint=urls["userinfo_url"], emails_endpoint=urls["emails_url"],
        token_endpoint_auth_method=auth_method, profile=ProfileFields(**fields),
        appsecret_proof=bool(preset and preset.appsecret_proof))


def saml_providers(settings: Settings) -> list[Provider]:
    """FRONTDESK_SAML_PROVIDERS: a JSON list of SAML 2.0 identity providers."""
    var = "FRONTDESK_SAML_PROVIDERS"
    return [_saml_provider(settings, f"{var}[{i}]", entry)
            for i, entry in enumerate(json_entries(var, settings.saml_providers))]


def _saml_provider(settings: Settings, where: str, entry: dict[str, Any]) -> Provider:
    unknown = sorted(set(entry) - SAML_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown keys {', '.join(unknown)}")
    name = _required_str(where, entry, "name")
    check_name(where, name)
    url, path = (_optional_str(where, entry, k) for k in ("metadata_url", "metadata_file"))
    if bool(url) == bool(path):
        raise ConfigError(f"{where}: exactly one of metadata_url and metadata_file is needed")
    if url:
        check_url(settings, f"{where}.metadata_url", url)
    emails = entry.get("email_attribute", list(SAML_EMAIL_ATTRIBUTES))
    emails = [emails] if isinstance(emails, str) else emails
    if not isinstance(emails, list) or not emails \
            or not all(isinstance(e, str) and SAML_ATTRIBUTE_RE.match(e) for e in emails):
        raise ConfigError(f"{where}: email_attribute must be an attribute name or a list")
    return Provider(
        name=name, kind="saml", label=_optional_str(where, entry, "label") or name.title(),
        client_id="", scopes=(), trust_email=_optional_bool(where, entry, "trust_email"),
        attribute_mapping=parse_mapping(f"{where}.attribute_mapping",
                                        entry.get("attribute_mapping"), SAML_MAPPING,
                                        claim_re=SAML_ATTRIBUTE_RE),
        update_attributes_on_login=_optional_bool(where, entry, "update_attributes_on_login"),
        saml=SamlIdp(metadata_url=url, metadata_file=path,
                     idp_entity_id=_optional_str(where, entry, "idp_entity_id"),
                     entity_id=_optional_str(where, entry, "entity_id"),
                     email_attributes=tuple(emails),
                     name_id_format=_optional_str(where, entry, "name_id_format"),
                     idp_initiated=_optional_bool(where, entry, "idp_initiated")))


def check_name(where: str, name: str) -> None:
    """A provider name is its URL segment (/federation/<name>/...)."""
    if not NAME_RE.match(name) or name in (google.NAME, apple.NAME, *RESERVED_NAMES):
        raise ConfigError(f"{where}: name must be 1-32 of a-z 0-9 _ - and not google, apple "
                          "or link")


def _oidc_provider(settings: Settings, where: str, entry: dict[str, Any]) -> Provider:
    unknown = sorted(set(entry) - GENERIC_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown keys {', '.join(unknown)}")
    name = _required_str(where, entry, "name")
    check_name(where, name)
    auth_method = entry.get("token_endpoint_auth_method", "client_secret_basic")
    if auth_method not in AUTH_METHODS:
        raise ConfigError(f"{where}: token_endpoint_auth_method must be one of "
                          f"{', '.join(sorted(AUTH_METHODS))}")
    discovery_url = _required_str(where, entry, "discovery_url")
    check_url(settings, f"{where}.discovery_url", discovery_url)
    return Provider(
        name=name, kind="oidc",
        label=_optional_str(where, entry, "label") or name.title(),
        client_id=_required_str(where, entry, "client_id"),
        client_secret=_required_str(where, entry, "client_secret"),
        scopes=parse_scopes(f"{where}.scopes", entry.get("scopes", "openid email profile")),
        trust_email=_optional_bool(where, entry, "trust_email"),
        attribute_mapping=parse_mapping(f"{where}.attribute_mapping",
                                        entry.get("attribute_mapping"), GENERIC_MAPPING),
        update_attributes_on_login=_optional_bool(where, entry, "update_attributes_on_login"),
        discovery_url=discovery_url, token_endpoint_auth_method=auth_method)


def _required_str(where: str, entry: dict[str, Any], key: str) -> str:
    value = _optional_str(where, entry, key)
    if not value:
        raise ConfigError(f"{where}: {key} is required")
    return value


def _optional_str(where: str, entry: dict[str, Any], key: str) -> str:
    value = entry.get(key, "")
    if not isinstance(value, str):
        raise ConfigError(f"{where}: {key} must be a string")
    return value.strip()


def _optional_bool(where: str, entry: dict[str, Any], key: str) -> bool:
    value = entry.get(key, False)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: {key} must be true or false")
    return value


def parse_scopes(where: str, raw: Any, openid: bool = True) -> tuple[str, ...]:
    """Scopes from a space-separated string or a JSON list; `openid` is always included
    for OIDC upstreams (Apple returns an ID token without being asked for it)."""
    if isinstance(raw, str):
        scopes = raw.replace(",", " ").split()
    elif isinstance(raw, list) and all(isinstance(s, str) for s in raw):
        scopes = [s.strip() for s in raw if s.strip()]
    else:
        raise ConfigError(f"{where} must be a space-separated string or a list of strings")
    if openid and "openid" not in scopes:
        scopes.insert(0, "openid")
    return tuple(dict.fromkeys(scopes))


def parse_mapping(where: str, raw: Any, default: dict[str, str],
                  claim_re: re.Pattern = ATTRIBUTE_RE) -> dict[str, str]:
    """Attribute mapping (upstream claim -> user attribute) from JSON text or an object."""
    if raw in (None, ""):
        return dict(default)
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise ConfigError(f"{where} is not valid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be an object of claim -> attribute names")
    for claim, attribute in raw.items():
        if not isinstance(attribute, str) or not ATTRIBUTE_RE.match(attribute) \
                or not claim_re.match(str(claim)):
            raise ConfigError(f"{where}: {claim!r} -> {attribute!r} is not a valid mapping")
        if attribute in RESERVED_ATTRIBUTES:
            raise ConfigError(f"{where}: the attribute {attribute!r} cannot be mapped")
    return dict(raw)


def check_url(settings: Settings, where: str, url: str) -> None:
    """An absolute http(s) URL; plain http only for loopback hosts in production."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{where} must be an absolute http(s) URL")
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if settings.is_production and parts.scheme != "https" and not loopback:
        raise ConfigError(f"{where} must use https in production")
