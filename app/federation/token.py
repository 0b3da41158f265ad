"""The authorization-code exchange at an upstream's token endpoint (RFC 6749 §4.1.3), for
OpenID Connect and plain OAuth 2.0 upstreams alike, through the one upstream fetcher.

Upstreams disagree on how they say no: RFC 6749 puts a string in `error` with status 400,
GitHub answers 200 with `error`, Facebook's Graph API sends `error` as an object. All of
them end as UpstreamError("upstream_token_error").
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

from app.federation.providers import Provider
from app.federation.upstream_http import UpstreamError, fetch


def basic_credentials(client_id: str, client_secret: str) -> str:
    """RFC 6749 §2.3.1: both parts form-encoded before the base64."""
    raw = f"{quote(client_id, safe='')}:{quote(client_secret, safe='')}"
    return "Basic " + base64.b64encode(raw.encode()).decode()


def exchange_code(provider: Provider, token_endpoint: str, *, code: str, code_verifier: str,
                  redirect_uri: str, timeout: float) -> dict[str, Any]:
    """The upstream's token response: a JSON object with an `access_token`."""
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "code_verifier": code_verifier}
    headers: dict[str, str] = {}
    secret = provider.current_client_secret()
    if provider.token_endpoint_auth_method == "client_secret_post":  # noqa: S105 - a name
        form.update(client_id=provider.client_id, client_secret=secret)
    else:
        headers["Authorization"] = basic_credentials(provider.client_id, secret)
    answer = fetch("POST", token_endpoint, timeout=timeout, headers=headers, data=form)
    try:
        token = answer.json()
    except UpstreamError:
        raise UpstreamError("upstream_token_error", f"HTTP {answer.status}, not JSON") from None
    if not isinstance(token, dict):
        raise UpstreamError("upstream_token_error", "not an object")
    if "error" in token or not answer.ok:
        raise UpstreamError("upstream_token_error", _error_code(token.get("error")))
    if not isinstance(token.get("access_token"), str) or not token["access_token"]:
        raise UpstreamError("upstream_token_error", "no access_token")
    return token


def _error_code(error: Any) -> str:
    if isinstance(error, dict):  # Graph API: {"message", "type", "code"}
        error = error.get("type") or error.get("code")
    return str(error or "unknown")[:64]
