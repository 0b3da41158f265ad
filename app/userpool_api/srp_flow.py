"""USER_SRP_AUTH and its PASSWORD_VERIFIER answer. An unknown address gets a challenge that
looks like a real one (salt and id derived from the address, a random B) and the same
NotAuthorizedException at the end, as a pool that prevents user-existence errors does.
A wrong proof counts against the account's lockout like a wrong password."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

from app.accounts.lockout import clear_failures, is_locked, record_failure
from app.accounts.users import UserError, normalize_email
from app.extensions import db, frontdesk_state
from app.models import PoolUser, User, record_event
from app.triggers import TriggerAbort, run_trigger
from app.userpool_api import srp
from app.userpool_api.challenges import (
    after_first_factor,
    close_session,
    open_session,
    origin_of,
)
from app.userpool_api.errors import ApiError, invalid_parameter, not_authorized
from app.userpool_api.passwords import read_verifier
from app.userpool_api.pool import check_secret_hash, user_pool_id

TIMESTAMP_SKEW_SECONDS = 300
_DECOY = object()


def _pool_name() -> str:
    return user_pool_id(frontdesk_state().settings).partition("_")[2]


def _user_for(username: str) -> User | None:
    try:
        email = normalize_email(username)
    except UserError:
        return db.session.get(User, username) if len(username) == 36 else None
    return User.find_by_email(email)


def _decoy(username: str) -> tuple[str, str, str]:
    """(user id, salt, verifier) for an address with no usable account: stable per address."""
    seed = hmac.new(frontdesk_state().settings.secret_key.encode(),
                    b"srp-decoy:" + username.lower().encode(), hashlib.sha256).hexdigest()
    fake_id = f"{seed[:8]}-{seed[8:12]}-4{seed[13:16]}-a{seed[17:20]}-{seed[20:32]}"
    return fake_id, seed[32:64], format(pow(srp.G, int(seed, 16), srp.N), "x")


def start_srp(client, pool_client, params: dict[str, str]) -> dict[str, Any]:
    username, a_hex = params.get("USERNAME"), params.get("SRP_A")
    if not username or not a_hex:
        raise invalid_parameter("Missing required parameter USERNAME or SRP_A")
    try:
        big_a = int(a_hex, 16)
    except ValueError:
        raise invalid_parameter("SRP_A must be hexadecimal.") from None
    if big_a % srp.N == 0:
        raise invalid_parameter("SRP_A is invalid.")
    check_secret_hash(client, pool_client, [username], params.get("SECRET_HASH"))
    user = _user_for(username)
    found = read_verifier(db.session.get(PoolUser, user.id)) if user is not None else None
    if user is None or found is None or not user.is_enabled:
        user_id, salt, verifier = _decoy(username)
        real = False
    else:
        (salt, verifier), user_id, real = found, user.id, True
    small_b, big_b = srp.server_ephemeral(verifier)
    secret_block = srp.new_secret_block()
    session_id = open_session(user_id, client.client_id, "PASSWORD_VERIFIER", ["pwd"],
                              session_of_block(secret_block), real=real,
                              username=username, verifier=verifier,
                              b=format(small_b, "x"), A=a_hex, B=format(big_b, "x"),
                              secret_block=secret_block)
    return {"ChallengeName": "PASSWORD_VERIFIER", "Session": session_id,
            "ChallengeParameters": {"SALT": salt, "SRP_B": format(big_b, "x"),
                                    "SECRET_BLOCK": secret_block, "USERNAME": user_id,
                                    "USER_ID_FOR_SRP": user_id}}


def session_of_block(secret_block: str | None) -> str | None:
    """The challenge's session id, from its SECRET_BLOCK: clients such as pycognito answer
    PASSWORD_VERIFIER without the Session, as the pool allows (its block carries the state)."""
    if not secret_block or len(secret_block) > 1024:
        return None
    return hashlib.sha256(secret_block.encode()).hexdigest()


def _timestamp_fresh(text: str) -> bool:
    """`Thu Dec 4 22:30:00 UTC 2026`, within the skew the pool allows."""
    try:
        when = datetime.strptime(" ".join(text.split()), "%a %b %d %H:%M:%S UTC %Y")
    except ValueError:
        return False
    skew = abs((datetime.now(UTC).replace(tzinfo=None) - when).total_seconds())
    return skew <= TIMESTAMP_SKEW_SECONDS


def _proof_valid(session: dict[str, Any], answers: dict[str, str]) -> bool:
    block, timestamp = answers.get("PASSWORD_CLAIM_SECRET_BLOCK"), answers.get("TIMESTAMP")
    signature = answers.get("PASSWORD_CLAIM_SIGNATURE") or ""
    if block != session["secret_block"] or not timestamp or not _timestamp_fresh(timestamp):
        return False
    key = srp.session_key(session["verifier"], int(session["b"], 16), int(session["A"], 16),
                          int(session["B"], 16))
    if key is None:
        return False
    try:
        block_bytes = base64.b64decode(block)
    except (binascii.Error, ValueError):
        return False
    expected = srp.expected_signature(key, _pool_name(), session["user_id"], block_bytes,
                                      timestamp)
    return hmac.compare_digest(expected.encode(), signature.encode())


def verify_srp(client, pool_client, session: dict[str, Any], answers: dict[str, str],
               with_refresh: bool) -> dict[str, Any]:
    """The proof, then the password rules that follow it (lockout, confirmation, trigger)."""
    state = frontdesk_state()
    close_session(session)  # one proof per challenge: a wrong one needs a new B
    user = db.session.get(User, session["user_id"]) if session.get("real") else None
    if user is None or not user.is_enabled or is_locked(state.store, user.email):
        raise not_authorized()
    if not _proof_valid(session, answers):
        record_failure(state.store, state.settings, user.email)
        record_event("login_failure", user_id=user.id, client_id=client.client_id,
                     ip=origin_of(client.client_id).ip, email=user.email,
                     reason="bad_password", method="srp")
        db.session.commit()
        raise not_authorized()
    if not user.email_verified:
        raise ApiError("UserNotConfirmedException", "User is not confirmed.")
    try:
        run_trigger("pre_authentication", {"user_id": user.id, "email": user.email,
                                           "client_id": client.client_id})
    except TriggerAbort as exc:
        raise ApiError("UserLambdaValidationException",
                       f"PreAuthentication failed with error {exc}.") from None
    clear_failures(state.store, user.email)
    return after_first_factor(client, user, ["pwd"], with_refresh)
