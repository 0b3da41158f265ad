"""Verifying AWS Signature Version 4 on the admin actions, computed as botocore's
SigV4Auth computes it: canonical request (method, path, query, the signed headers trimmed,
the payload's SHA-256), string to sign with the credential scope, the key derived from the
secret by date, region and service. Refused: a wrong signature, an unknown key, a scope of
another region or service, an X-Amz-Date more than 5 minutes off, a signature seen before
(each is kept for as long as it could be fresh), and requests that do not sign Host,
X-Amz-Date and X-Amz-Target (so a signed call cannot be turned into another action)."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from flask import request

from app.extensions import frontdesk_state
from app.userpool_api.errors import ApiError
from app.userpool_api.keys import key_secret
from app.userpool_api.pool import pool_region

SERVICE = "cognito-idp"
MAX_SKEW_SECONDS = 300
REPLAY_PREFIX = "sigv4:"
REQUIRED_HEADERS = frozenset({"host", "x-amz-date", "x-amz-target"})
_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/\s]+)/(?P<date>\d{8})/(?P<region>[^/\s]+)/"
    r"(?P<service>[^/\s]+)/aws4_request,\s*SignedHeaders=(?P<headers>[a-z0-9;-]+),\s*"
    r"Signature=(?P<signature>[0-9a-f]{64})")


@dataclass(frozen=True)
class SignedCaller:
    access_key_id: str
    scopes: frozenset[str]


def _refused(message: str = "The request signature we calculated does not match the "
             "signature you provided.") -> ApiError:
    return ApiError("InvalidSignatureException", message)


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def _canonical_request(signed_headers: list[str], body: bytes) -> str:
    payload = hashlib.sha256(body).hexdigest()
    declared = request.headers.get("X-Amz-Content-Sha256")
    if declared is not None and not hmac.compare_digest(declared, payload):
        raise _refused("The payload does not match X-Amz-Content-SHA256.")
    query = "&".join(sorted(request.query_string.decode("latin-1").split("&"))) \
        if request.query_string else ""
    headers = "".join(
        f"{name}:{','.join(' '.join(v.split()) for v in request.headers.getlist(name))}\n"
        for name in signed_headers)
    return "\n".join([request.method.upper(), quote(request.path, safe="/~"), query,
                      headers, ";".join(signed_headers), payload])


def _fresh_date(stamp: str, scope_date: str) -> None:
    try:
        when = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise _refused("X-Amz-Date must be a basic ISO 8601 UTC time.") from None
    skew = abs((datetime.now(UTC) - when).total_seconds())
    if skew > MAX_SKEW_SECONDS or not stamp.startswith(scope_date):
        raise _refused(f"Signature expired: {stamp} is more than 5 minutes from now.")


def verify_signature(body: bytes) -> SignedCaller:
    """The key that signed this request, or an ApiError the SDKs know."""
    header = request.headers.get("Authorization", "")
    if not header:
        raise ApiError("MissingAuthenticationTokenException", "Missing Authentication Token")
    parts = _AUTHORIZATION.fullmatch(header.strip())
    if parts is None:
        raise ApiError("IncompleteSignatureException", "The Authorization header is not a "
                       "SigV4 AWS4-HMAC-SHA256 signature.")
    signed_headers = parts["headers"].split(";")
    if not REQUIRED_HEADERS <= set(signed_headers) or signed_headers != sorted(signed_headers):
        raise _refused("Host, X-Amz-Date and X-Amz-Target must be signed.")
    settings = frontdesk_state().settings
    if parts["service"] != SERVICE or parts["region"] != pool_region(settings):
        raise _refused(f"Credential should be scoped to {pool_region(settings)}/{SERVICE}.")
    stamp = request.headers.get("X-Amz-Date", "")
    _fresh_date(stamp, parts["date"])
    found = key_secret(parts["key"])
    if found is None:
        raise ApiError("UnrecognizedClientException", "The security token included in the "
                       "request is invalid.")
    row, secret = found
    scope = f"{parts['date']}/{parts['region']}/{SERVICE}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(
        _canonical_request(signed_headers, body).encode()).hexdigest()])
    key = _hmac(_hmac(_hmac(_hmac(f"AWS4{secret}".encode(), parts["date"]), parts["region"]),
                      SERVICE), "aws4_request")
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, parts["signature"]):
        raise _refused()
    if not frontdesk_state().store.add(REPLAY_PREFIX + parts["signature"], "1",
                                       2 * MAX_SKEW_SECONDS + 1):
        raise _refused("This signed request was already received.")
    return SignedCaller(row.access_key_id, frozenset(row.scopes or ()))
