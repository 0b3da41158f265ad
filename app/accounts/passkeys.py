"""Passkeys (WebAuthn Level 3): registration and authentication ceremonies, and the rules
around the stored credentials.

The relying party is the issuer: its host is the rp id and its scheme://host[:port] the only
accepted origin. Browsers refuse an IP address as an rp id, so such an issuer has no
passkeys at all (`relying_party` returns None and the pages hide the buttons).

A ceremony's challenge is single use: it waits in the store under a random ceremony id the
caller keeps in the browser's session (so it is bound to that session), for at most
CHALLENGE_SECONDS, and is popped before the answer is checked.
"""

from __future__ import annotations

import ipaddress
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from app.config import Settings
from app.extensions import db
from app.models import Passkey, User
from app.store import Store

CHALLENGE_SECONDS = 300
CHALLENGE_PREFIX = "pk:challenge:"
CEREMONY_TIMEOUT_MS = CHALLENGE_SECONDS * 1000
RP_NAME = "Frontdesk"
NAME_MAX = 64
CREDENTIAL_MAX_CHARS = 64 * 1024  # what we parse of an authenticator's answer
#: RFC 8176: a key bound to one authenticator is hardware-secured; a synced one is not.
AMR_HARDWARE, AMR_SOFTWARE, AMR_VERIFIED = "hwk", "swk", "user"


class PasskeyError(Exception):
    """The authenticator's answer is not accepted (the message is for logs, not users)."""


@dataclass(frozen=True)
class RelyingParty:
    id: str
    origin: str


def relying_party(settings: Settings) -> RelyingParty | None:
    """The issuer as a WebAuthn relying party; None when its host is an IP address."""
    parts = urlsplit(settings.issuer)
    host = parts.hostname or ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return RelyingParty(id=host, origin=f"{parts.scheme}://{parts.netloc}")
    return None


def passkeys_off_warning(settings: Settings) -> str | None:
    """What to tell the operator at start-up when the issuer rules passkeys out."""
    if relying_party(settings) is not None:
        return None
    host = urlsplit(settings.issuer).hostname
    return (f"passkeys are off: the issuer {settings.issuer} has an IP address ({host}) as its "
            "host and browsers refuse an IP as a WebAuthn relying party; use a host name "
            "(http://localhost:5000 in development)")


def _park_challenge(store: Store, purpose: str, challenge: bytes, user_id: str | None) -> str:
    ceremony = secrets.token_urlsafe(24)
    store.set_json(CHALLENGE_PREFIX + ceremony, {
        "purpose": purpose, "challenge": bytes_to_base64url(challenge), "uid": user_id},
        CHALLENGE_SECONDS)
    return ceremony


def _take_challenge(store: Store, ceremony: str | None, purpose: str) -> dict:
    """The parked challenge, removed whatever comes next (single use)."""
    if not ceremony or len(ceremony) > 64:
        raise PasskeyError("no ceremony in this session")
    parked = store.pop_json(CHALLENGE_PREFIX + ceremony)
    if not parked or parked.get("purpose") != purpose:
        raise PasskeyError("challenge unknown, used or expired")
    return parked


def _require_rp(settings: Settings) -> RelyingParty:
    rp = relying_party(settings)
    if rp is None:
        raise PasskeyError("passkeys are off for this issuer")
    return rp


def user_passkeys(user_id: str) -> list[Passkey]:
    return list(db.session.scalars(select(Passkey).where(Passkey.user_id == user_id)
                                   .order_by(Passkey.created_at, Passkey.id)))


def _parse(credential: str) -> dict:
    if not credential or len(credential) > CREDENTIAL_MAX_CHARS:
        raise PasskeyError("no credential or too long")
    try:
        parsed = json.loads(credential)
    except ValueError:
        raise PasskeyError("credential is not JSON") from None
    if not isinstance(parsed, dict):
        raise PasskeyError("credential is not an object")
    return parsed


def start_registration(settings: Settings, store: Store, user: User) -> tuple[str, str]:
    """(ceremony id, options JSON for navigator.credentials.create()). Discoverable
    credentials, so the user can sign in without typing an address first."""
    rp = _require_rp(settings)
    options = generate_registration_options(
        rp_id=rp.id, rp_name=RP_NAME, user_name=user.email, user_id=user.id.encode(),
        user_display_name=(user.attributes or {}).get("name") or user.email,
        timeout=CEREMONY_TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.PREFERRED),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(p.credential_id))
                             for p in user_passkeys(user.id)])
    ceremony = _park_challenge(store, "register", options.challenge, user.id)
    return ceremony, options_to_json(options)


def finish_registration(settings: Settings, store: Store, ceremony: str | None, user: User,
                        credential: str, name: str) -> Passkey:
    """Verify the authenticator's answer and add the passkey (the caller commits)."""
    rp = _require_rp(settings)
    parked = _take_challenge(store, ceremony, "register")
    if parked.get("uid") != user.id:
        raise PasskeyError("challenge was issued to another user")
    try:
        verified = verify_registration_response(
            credential=_parse(credential), expected_challenge=base64url_to_bytes(
                parked["challenge"]), expected_rp_id=rp.id, expected_origin=rp.origin)
    except WebAuthnException as exc:
        raise PasskeyError(str(exc)) from None
    credential_id = bytes_to_base64url(verified.credential_id)
    if db.session.scalar(select(Passkey.id).where(Passkey.credential_id == credential_id)):
        raise PasskeyError("credential already registered")
    passkey = Passkey(user_id=user.id, credential_id=credential_id,
                      public_key=verified.credential_public_key, sign_count=verified.sign_count,
                      aaguid=verified.aaguid, device_type=verified.credential_device_type.value,
                      backed_up=verified.credential_backed_up,
                      name=(name or "").strip()[:NAME_MAX] or default_name(user.id))
    db.session.add(passkey)
    return passkey


def default_name(user_id: str) -> str:
    return f"Passkey {len(user_passkeys(user_id)) + 1}"


def start_authentication(settings: Settings, store: Store,
                         user: User | None = None) -> tuple[str, str]:
    """(ceremony id, options JSON for navigator.credentials.get()). Without a user the
    browser offers its discoverable credentials; with one (a second factor), only theirs.
    User verification is required: the key (possession) plus the PIN or biometric that
    unlocks it are two factors, which is why a passkey sign-in needs no further step."""
    rp = _require_rp(settings)
    allowed = [PublicKeyCredentialDescriptor(id=base64url_to_bytes(p.credential_id))
               for p in user_passkeys(user.id)] if user is not None else []
    options = generate_authentication_options(
        rp_id=rp.id, timeout=CEREMONY_TIMEOUT_MS, allow_credentials=allowed,
        user_verification=UserVerificationRequirement.REQUIRED)
    ceremony = _park_challenge(store, "authenticate", options.challenge,
                               user.id if user is not None else None)
    return ceremony, options_to_json(options)


@dataclass(frozen=True)
class PasskeySignIn:
    user: User
    amr: list[str]


def _stored_passkey(parsed: dict) -> Passkey:
    credential_id = parsed.get("id")
    passkey = db.session.scalar(select(Passkey).where(
        Passkey.credential_id == credential_id)) if isinstance(credential_id, str) else None
    if passkey is None:
        raise PasskeyError("unknown credential")
    handle = (parsed.get("response") or {}).get("userHandle")
    if handle and not secrets.compare_digest(
            _handle_bytes(handle), passkey.user_id.encode()):
        raise PasskeyError("user handle does not match the credential's user")
    return passkey


def _handle_bytes(handle) -> bytes:
    try:
        return base64url_to_bytes(str(handle))
    except ValueError:
        raise PasskeyError("malformed user handle") from None


def finish_authentication(settings: Settings, store: Store, ceremony: str | None,
                          credential: str) -> PasskeySignIn:
    """Verify an assertion; records the new sign counter, backup state and last use (the
    caller commits). A counter that does not move forward is refused (a cloned key)."""
    rp = _require_rp(settings)
    parked = _take_challenge(store, ceremony, "authenticate")
    parsed = _parse(credential)
    passkey = _stored_passkey(parsed)
    if parked.get("uid") and parked["uid"] != passkey.user_id:
        raise PasskeyError("credential of another user than the second factor's")
    user = db.session.get(User, passkey.user_id)
    if user is None or not user.is_enabled:
        raise PasskeyError("user gone or disabled")
    try:
        verified = verify_authentication_response(
            credential=parsed, expected_challenge=base64url_to_bytes(parked["challenge"]),
            expected_rp_id=rp.id, expected_origin=rp.origin,
            credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count, require_user_verification=True)
    except WebAuthnException as exc:
        raise PasskeyError(str(exc)) from None
    passkey.sign_count = verified.new_sign_count
    passkey.backed_up = verified.credential_backed_up
    passkey.device_type = verified.credential_device_type.value
    passkey.last_used_at = datetime.now(UTC)
    return PasskeySignIn(user=user, amr=passkey_amr(passkey.device_type, verified.user_verified))


def passkey_amr(device_type: str, user_verified: bool) -> list[str]:
    amr = [AMR_HARDWARE if device_type == "single_device" else AMR_SOFTWARE]
    return amr + ([AMR_VERIFIED] if user_verified else [])


def find_user_passkey(user_id: str, passkey_id: int) -> Passkey | None:
    passkey = db.session.get(Passkey, passkey_id)
    return passkey if passkey is not None and passkey.user_id == user_id else None


def rename_passkey(passkey: Passkey, name: str) -> None:
    passkey.name = name.strip()[:NAME_MAX] or passkey.name


def describe_passkeys(user_id: str) -> list[dict]:
    """What the account page shows, as plain values."""
    return [{"id": p.id, "name": p.name, "created_at": p.created_at,
             "last_used_at": p.last_used_at, "synced": p.device_type == "multi_device"}
            for p in user_passkeys(user_id)]
