"""Named extension points of the flows (triggers): Python callables or signed webhooks.

CONTRACT (callers code against these two functions; the registry behind them is pluggable):

run_trigger(name, event) -> dict
    Runs the trigger configured for `name` with a JSON-able `event` and returns its response
    ({} when none is configured). A pre_* trigger that rejects raises TriggerAbort(message);
    the message is safe to show to the user. post_* triggers never raise: failures are logged.
    Names and event shapes:
      pre_sign_up          {"email", "attributes", "client_id"}
                           -> {"auto_confirm": bool, "auto_verify_email": bool}
      post_confirmation    {"user_id", "email", "client_id"}
      pre_authentication   {"user_id", "email", "client_id"}            (reject = TriggerAbort)
      post_authentication  {"user_id", "email", "client_id", "amr"}
      custom_message       {"message", "email", "subject", "text", "html", "code", "link"}
                           -> {"subject", "text", "html"} (any subset)
      user_migration       {"email", "password"}  (login of an unknown e-mail)
                           -> {"attributes": {...}, "email_verified": bool} or {} when unknown
      pre_token_generation (run by customize_token_claims, see docs/triggers.md)
                           {"user_id", "email", "client_id", "scopes", "groups", "attributes",
                            "id_token_claims", "access_token_claims"}
                           -> {"claims_to_add_or_override", "claims_to_suppress",
                               "groups_override", "id_token": {...}, "access_token": {...}}

customize_token_claims(user, client_id, scopes, id_claims, access_claims, userinfo_claims)
    Called once per token response / userinfo answer by the protocol with the claim dicts it
    built (None for what it is not issuing). Adds custom-attribute claims by scope and applies
    the pre_token_generation trigger (add, override, suppress claims; override groups), never
    touching PROTECTED_CLAIMS. Mutates the dicts in place. The trigger runs only when a token
    is issued (not for a userinfo-only call); it fails closed: TriggerAbort.

Failure policy: pre_* triggers fail closed (TriggerAbort with GENERIC_MESSAGE when the
trigger errs, times out or answers nonsense); every other trigger is logged and the flow goes
on as if no trigger were configured.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import importlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

import requests
from flask import Flask, current_app, has_app_context

from app.config import ConfigError, Settings
from app.extensions import frontdesk_state
from app.logs import redact

PROTECTED_CLAIMS = frozenset({
    "iss", "sub", "aud", "exp", "iat", "nbf", "nonce", "auth_time", "acr", "amr", "at_hash",
    "c_hash", "jti", "client_id", "scope", "azp", "sid",
})
TRIGGER_NAMES = ("pre_sign_up", "post_confirmation", "pre_authentication", "post_authentication",
                 "pre_token_generation", "custom_message", "user_migration")
FAIL_CLOSED = frozenset({"pre_sign_up", "pre_authentication", "pre_token_generation"})
GENERIC_MESSAGE = "We could not complete this request right now. Please try again later."
ENTRY_POINT_GROUP = "frontdesk.triggers"
SIGNATURE_HEADER = "X-Frontdesk-Signature"
TIMESTAMP_HEADER = "X-Frontdesk-Timestamp"
MAX_RESPONSE_BYTES = 1024 * 1024
MAX_ABORT_MESSAGE = 500

logger = logging.getLogger("frontdesk.triggers")


class TriggerAbort(Exception):  # noqa: N818 - the name says what it does
    """A pre_* trigger rejected the operation; str(exc) is shown to the user."""


class TriggerFailure(Exception):
    """A trigger could not be run or answered nonsense (never shown to users)."""


# --- webhook signatures ---------------------------------------------------------------------


def sign_payload(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` HMAC-SHA256 over "<timestamp>.<body>"."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(secret: str, timestamp: str, body: bytes, signature: str, *,
                     tolerance_seconds: int = 300, now: float | None = None) -> bool:
    """What a receiver does: constant-time compare and a fresh timestamp (no replays)."""
    try:
        age = abs((time.time() if now is None else now) - int(timestamp))
    except (TypeError, ValueError):
        return False
    expected = sign_payload(secret, timestamp, body)
    return age <= tolerance_seconds and hmac.compare_digest(expected, signature or "")


# --- handlers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallableTrigger:
    """A Python function `fn(event: dict) -> dict | None`."""

    target: str
    function: Callable[[dict[str, Any]], Any]
    kind: str = "callable"

    def call(self, name: str, event: dict[str, Any]) -> Any:
        return self.function(copy.deepcopy(event) | {"trigger": name})


@dataclass(frozen=True)
class WebhookTrigger:
    """A JSON POST signed with HMAC-SHA256; only a 2xx JSON answer counts."""

    url: str
    secret: str
    timeout_seconds: float
    kind: str = "webhook"

    def call(self, name: str, event: dict[str, Any]) -> Any:
        body = json.dumps({"trigger": name, "event": event}, separators=(",", ":"),
                          default=str).encode()
        timestamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", "User-Agent": "Frontdesk-Triggers/1",
                   TIMESTAMP_HEADER: timestamp,
                   SIGNATURE_HEADER: sign_payload(self.secret, timestamp, body)}
        try:
            with requests.post(self.url, data=body, headers=headers, stream=True,
                               timeout=self.timeout_seconds, allow_redirects=False) as response:
                content = response.raw.read(MAX_RESPONSE_BYTES + 1, decode_content=True)
                status = response.status_code
        except requests.RequestException as exc:
            raise TriggerFailure(f"{exc.__class__.__name__} calling the webhook") from None
        if not 200 <= status < 300:
            raise TriggerFailure(f"webhook answered HTTP {status}")
        if len(content) > MAX_RESPONSE_BYTES:
            raise TriggerFailure("webhook response too large")
        if not content.strip():
            return {}
        try:
            return json.loads(content)
        except ValueError:
            raise TriggerFailure("webhook response is not JSON") from None


Handler = CallableTrigger | WebhookTrigger
ClaimSource = Callable[[Any, str, list[str], dict | None, dict | None, dict | None], None]


@dataclass
class TriggerRegistry:
    """The triggers of one app (frontdesk_state().triggers) and its claim sources."""

    handlers: dict[str, Handler] = field(default_factory=dict)
    claim_sources: list[ClaimSource] = field(default_factory=list)
    groups_claim: str = "groups"

    def describe(self) -> dict[str, str]:
        return {name: h.kind for name, h in self.handlers.items()}


def _setting_name(name: str) -> str:
    return f"FRONTDESK_TRIGGER_{name.upper()}"


def _import_target(name: str, target: str) -> CallableTrigger:
    module_name, _, attr = target.partition(":")
    if not attr:
        module_name, _, attr = target.rpartition(".")
    try:
        function = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigError(f"{_setting_name(name)}: cannot import {target!r} ({exc})") from None
    if not callable(function):
        raise ConfigError(f"{_setting_name(name)}: {target!r} is not callable")
    return CallableTrigger(target, function)


def _handler_from_setting(settings: Settings, name: str, target: str) -> Handler:
    if target.startswith(("http://", "https://")):
        if not settings.trigger_webhook_secret:
            raise ConfigError(f"{_setting_name(name)} is a webhook: set "
                              "FRONTDESK_TRIGGER_WEBHOOK_SECRET to sign its requests")
        return WebhookTrigger(target, settings.trigger_webhook_secret,
                              float(settings.trigger_timeout_seconds))
    return _import_target(name, target)


def _entry_point_handlers() -> dict[str, Handler]:
    found: dict[str, Handler] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name not in TRIGGER_NAMES:
            logger.warning("ignoring entry point %s: no trigger named %r", ep.value, ep.name)
            continue
        if ep.name in found:
            raise ConfigError(f"two '{ENTRY_POINT_GROUP}' entry points named {ep.name!r}")
        try:
            found[ep.name] = CallableTrigger(ep.value, ep.load())
        except (ImportError, AttributeError) as exc:
            raise ConfigError(f"entry point {ep.name}={ep.value}: {exc}") from None
    return found


def build_registry(settings: Settings, claim_sources: list[ClaimSource] = ()) -> TriggerRegistry:
    """Settings win over entry points; a broken configuration fails at start-up."""
    if settings.trigger_timeout_seconds < 1:
        raise ConfigError("FRONTDESK_TRIGGER_TIMEOUT_SECONDS must be at least 1")
    handlers = _entry_point_handlers()
    for name in TRIGGER_NAMES:
        target = getattr(settings, f"trigger_{name}").strip()
        if target:
            handlers[name] = _handler_from_setting(settings, name, target)
    return TriggerRegistry(handlers, list(claim_sources),
                           getattr(settings, "groups_claim", "") or "groups")


def init_triggers(app: Flask, claim_sources: list[ClaimSource] = ()) -> TriggerRegistry:
    state = frontdesk_state(app)
    state.triggers = build_registry(state.settings, claim_sources)
    return state.triggers


# --- responses ------------------------------------------------------------------------------


def _check_type(name: str, value: Any, kind: type) -> Any:
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise TriggerFailure(f"{name} must be a {kind.__name__}")
    return value


def _check_fields(raw: dict, fields: dict[str, type]) -> dict[str, Any]:
    return {key: _check_type(key, raw[key], kind) for key, kind in fields.items()
            if raw.get(key) is not None}


def _check_string_list(name: str, value: Any) -> list[str]:
    _check_type(name, value, list)
    for item in value:
        _check_type(name + " item", item, str)
    return value


def _check_claim_changes(raw: dict) -> dict[str, Any]:
    out: dict[str, Any] = {}
    adds = raw.get("claims_to_add_or_override")
    if adds is not None:
        _check_type("claims_to_add_or_override", adds, dict)
        try:
            json.dumps(adds)
        except (TypeError, ValueError):
            raise TriggerFailure("claims_to_add_or_override is not JSON") from None
        out["claims_to_add_or_override"] = adds
    if raw.get("claims_to_suppress") is not None:
        out["claims_to_suppress"] = _check_string_list("claims_to_suppress",
                                                       raw["claims_to_suppress"])
    return out


def _check_token_response(raw: dict) -> dict[str, Any]:
    out = _check_claim_changes(raw)
    if raw.get("groups_override") is not None:
        out["groups_override"] = _check_string_list("groups_override", raw["groups_override"])
    for token in ("id_token", "access_token"):
        if raw.get(token) is not None:
            out[token] = _check_claim_changes(_check_type(token, raw[token], dict))
    return out


RESPONSE_FIELDS: dict[str, dict[str, type]] = {
    "pre_sign_up": {"auto_confirm": bool, "auto_verify_email": bool},
    "custom_message": {"subject": str, "text": str, "html": str},
    "user_migration": {"attributes": dict, "email_verified": bool},
}


def _clean_response(name: str, raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise TriggerFailure("the response is not a JSON object")
    if raw.get("abort"):
        raise TriggerAbort(str(raw["abort"])[:MAX_ABORT_MESSAGE])
    if name == "pre_token_generation":
        return _check_token_response(raw)
    return _check_fields(raw, RESPONSE_FIELDS.get(name, {}))


# --- running --------------------------------------------------------------------------------


def _registry() -> TriggerRegistry | None:
    if not has_app_context():
        return None
    return frontdesk_state(current_app).triggers


def token_claims_customized() -> bool:
    """Whether customize_token_claims can change anything: a claim source (custom
    attributes with claims) or a pre_token_generation trigger is configured."""
    registry = _registry()
    return registry is not None and bool(
        registry.claim_sources or "pre_token_generation" in registry.handlers)


def _log_failure(name: str, handler: Handler, exc: BaseException) -> None:
    detail = redact(str(exc))[:200] if isinstance(exc, TriggerFailure | TriggerAbort) else ""
    logger.warning("trigger %s (%s) failed: %s %s", name, handler.kind,
                   exc.__class__.__name__, detail)


def run_trigger(name: str, event: dict[str, Any]) -> dict[str, Any]:
    """Run the trigger configured for `name` ({} when none)."""
    if name not in TRIGGER_NAMES:
        raise ValueError(f"unknown trigger {name!r}")
    registry = _registry()
    handler = registry.handlers.get(name) if registry else None
    if handler is None:
        return {}
    try:
        return _clean_response(name, handler.call(name, event))
    except TriggerAbort as exc:
        if name in FAIL_CLOSED:
            raise TriggerAbort(str(exc)[:MAX_ABORT_MESSAGE] or GENERIC_MESSAGE) from None
        _log_failure(name, handler, exc)
        return {}
    except Exception as exc:  # noqa: BLE001 - a trigger's bug must not break the flow
        _log_failure(name, handler, exc)
        if name in FAIL_CLOSED:
            raise TriggerAbort(GENERIC_MESSAGE) from None
        return {}


# --- token claims ---------------------------------------------------------------------------


def _user_event(user: Any) -> dict[str, Any]:
    if user is None:
        return {"user_id": None, "email": None, "groups": [], "attributes": {}}
    groups = sorted(getattr(user, "groups", []) or [], key=lambda g: (g.precedence, g.name))
    return {"user_id": user.id, "email": user.email, "groups": [g.name for g in groups],
            "attributes": copy.deepcopy(user.attributes or {})}


def _apply_changes(claims: dict, adds: dict, suppress: list[str]) -> None:
    for claim in suppress:
        if claim not in PROTECTED_CLAIMS:
            claims.pop(claim, None)
    for claim, value in adds.items():
        if claim not in PROTECTED_CLAIMS:
            claims[claim] = copy.deepcopy(value)


def apply_token_response(response: dict[str, Any], groups_claim: str,
                         tokens: dict[str, dict | None]) -> None:
    """Apply a cleaned pre_token_generation response to the claim dicts in `tokens`."""
    for token, claims in tokens.items():
        if claims is None:
            continue
        # general changes first, then the token's own: the more specific one wins
        _apply_changes(claims, response.get("claims_to_add_or_override", {}),
                       response.get("claims_to_suppress", []))
        if "groups_override" in response:
            claims[groups_claim] = list(response["groups_override"])
        specific = response.get(token, {})
        _apply_changes(claims, specific.get("claims_to_add_or_override", {}),
                       specific.get("claims_to_suppress", []))


def customize_token_claims(user: Any, client_id: str, scopes: list[str],
                           id_claims: dict | None, access_claims: dict | None,
                           userinfo_claims: dict | None = None) -> None:
    """Custom attribute claims + pre_token_generation; a no-op when nothing is configured."""
    registry = _registry()
    if registry is None:
        return
    scopes = list(scopes or [])
    for source in registry.claim_sources:
        source(user, client_id, scopes, id_claims, access_claims, userinfo_claims)
    if (id_claims is None and access_claims is None) or \
            "pre_token_generation" not in registry.handlers:
        return
    event = _user_event(user) | {
        "client_id": client_id, "scopes": scopes,
        "id_token_claims": copy.deepcopy(id_claims),
        "access_token_claims": copy.deepcopy(access_claims)}
    response = run_trigger("pre_token_generation", event)
    apply_token_response(response, registry.groups_claim,
                         {"id_token": id_claims, "access_token": access_claims})
