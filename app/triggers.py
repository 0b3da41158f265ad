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

customize_token_claims(user, client_id, scopes, id_claims, access_claims, userinfo_claims)
    Called once per token response / userinfo answer by the protocol with the claim dicts it
    built (None for what it is not issuing). Adds custom-attribute claims by scope and applies
    the pre_token_generation trigger (add, override, suppress claims; override groups), never
    touching PROTECTED_CLAIMS. Mutates the dicts in place.
"""

from __future__ import annotations

from typing import Any

PROTECTED_CLAIMS = frozenset({
    "iss", "sub", "aud", "exp", "iat", "nbf", "nonce", "auth_time", "acr", "amr", "at_hash",
    "c_hash", "jti", "client_id", "scope", "azp", "sid",
})


class TriggerAbort(Exception):  # noqa: N818 - the name says what it does
    """A pre_* trigger rejected the operation; str(exc) is shown to the user."""


def run_trigger(name: str, event: dict[str, Any]) -> dict[str, Any]:
    """Run the trigger configured for `name` ({} when none)."""
    return {}


def customize_token_claims(user: Any, client_id: str, scopes: list[str],
                           id_claims: dict | None, access_claims: dict | None,
                           userinfo_claims: dict | None = None) -> None:
    """Custom attribute claims + pre_token_generation; a no-op when nothing is configured."""
    return None
