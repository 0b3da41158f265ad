"""The one way federation talks HTTP to an upstream: discovery documents, key sets, token
and user-info endpoints, SAML metadata. Every request goes through `fetch`: no redirects
followed, a bounded time, a bounded body, and failures turned into UpstreamError, so the
login flow never sees a transport exception.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import requests

MAX_BODY_BYTES = 1024 * 1024


class UpstreamError(Exception):
    """The upstream failed or answered something we must not accept.

    `reason` is a short code for logs and the audit trail; the user sees a generic message.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        """The body as JSON; UpstreamError when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            raise UpstreamError("upstream_bad_response", "not JSON") from None


def fetch(method: str, url: str, *, timeout: float, headers: dict[str, str] | None = None,
          params: dict[str, str] | None = None, data: dict[str, str] | None = None) -> Answer:
    """One request to an upstream; UpstreamError("upstream_unreachable") on any transport
    failure or a body over MAX_BODY_BYTES. HTTP error statuses are returned, not raised:
    the caller knows what an error answer of its endpoint looks like."""
    try:
        with requests.request(method, url, timeout=timeout, allow_redirects=False,
                              headers={"Accept": "application/json", **(headers or {})},
                              params=params, data=data, stream=True) as response:
            body = response.raw.read(MAX_BODY_BYTES + 1, decode_content=True)
    except (requests.RequestException, OSError, ValueError) as exc:
        raise UpstreamError("upstream_unreachable", f"{url}: {exc.__class__.__name__}") \
            from None
    if len(body) > MAX_BODY_BYTES:
        raise UpstreamError("upstream_unreachable", f"{url}: answer too large")
    return Answer(status=response.status_code, body=body)
