"""Triggers: Python callables (dotted path, entry points) and signed webhooks against a real
HTTP receiver on 127.0.0.1 that checks the signature itself."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.accounts.users import create_user
from app.config import ConfigError
from app.extensions import db, frontdesk_state
from app.models import User
from app.triggers import (
    GENERIC_MESSAGE,
    TriggerAbort,
    customize_token_claims,
    run_trigger,
    sign_payload,
    verify_signature,
)
from tests.conftest import make_app

SECRET = "webhook-secret-" + "s" * 24
CALLS: list[dict] = []


# --- trigger targets (referenced by dotted path) -------------------------------------------


def reject_example_org(event):
    CALLS.append(event)
    if event["email"].endswith("@example.org"):
        raise TriggerAbort("Sign-ups from example.org are closed.")
    return {"auto_confirm": True, "auto_verify_email": False, "ignored": 1}


def broken(event):
    raise RuntimeError("password=hunter2 leaked?")


def wrong_types(event):
    return {"auto_confirm": "yes"}


def mutate_event(event):
    event["email"] = "changed@example.com"
    event["attributes"]["plan"] = "changed"
    return {}


def abort_dict(event):
    return {"abort": "Not today."}


def token_claims(event):
    CALLS.append(event)
    return {
        "claims_to_add_or_override": {"plan": "pro", "name": "Overridden", "sub": "evil",
                                      "iss": "https://evil.example"},
        "claims_to_suppress": ["email", "aud", "nonce"],
        "groups_override": ["vip"],
        "id_token": {"claims_to_add_or_override": {"only_id": True}},
        "access_token": {"claims_to_suppress": ["name"]},
    }


def migration(event):
    if event["password"] == "legacy-pass":
        return {"attributes": {"name": "Legacy"}, "email_verified": True}
    return {}


NOT_CALLABLE = 42


@pytest.fixture(autouse=True)
def _clear_calls():
    CALLS.clear()


_APPS: list = []


@pytest.fixture(autouse=True)
def _dispose_apps():
    yield
    while _APPS:
        with _APPS.pop().app_context():
            db.session.remove()
            db.engine.dispose()


def _app(tmp_path, postgres_schema, **settings):
    app = make_app(tmp_path, postgres_schema, **settings)
    _APPS.append(app)
    return app


# --- callables ------------------------------------------------------------------------------


def test_no_trigger_configured_is_a_no_op(app):
    with app.app_context():
        assert run_trigger("pre_sign_up", {"email": "a@example.com"}) == {}
        claims = {"sub": "x", "name": "A"}
        customize_token_claims(None, "c", ["openid"], claims, None)
        assert claims == {"sub": "x", "name": "A"}
        assert frontdesk_state().triggers.describe() == {}


def test_unknown_trigger_name_is_a_programming_error(app):
    with app.app_context(), pytest.raises(ValueError):
        run_trigger("pre_everything", {})


def test_callable_rejects_and_answers(tmp_path, postgres_schema):
    app = _app(tmp_path, postgres_schema,
               trigger_pre_sign_up="tests.test_triggers:reject_example_org")
    with app.app_context():
        with pytest.raises(TriggerAbort, match="example.org are closed"):
            run_trigger("pre_sign_up", {"email": "eve@example.org", "attributes": {},
                                        "client_id": "c"})
        answer = run_trigger("pre_sign_up", {"email": "bob@example.com", "attributes": {},
                                             "client_id": "c"})
    assert answer == {"auto_confirm": True, "auto_verify_email": False}
    assert CALLS[-1]["trigger"] == "pre_sign_up"


def test_dotted_path_without_colon_works(tmp_path, postgres_schema):
    app = _app(tmp_path, postgres_schema,
               trigger_pre_sign_up="tests.test_triggers.reject_example_org")
    with app.app_context():
        assert run_trigger("pre_sign_up", {"email": "a@example.com"})["auto_confirm"] is True


def test_callable_failure_fails_closed_for_pre_and_open_for_post(tmp_path, postgres_schema,
                                                                caplog):
    app = _app(tmp_path, postgres_schema,
               trigger_pre_authentication="tests.test_triggers:broken",
               trigger_post_authentication="tests.test_triggers:broken",
               trigger_custom_message="tests.test_triggers:broken")
    with app.app_context(), caplog.at_level(logging.WARNING, "frontdesk.triggers"):
        with pytest.raises(TriggerAbort) as info:
            run_trigger("pre_authentication", {"user_id": "u", "email": "a@example.com"})
        assert str(info.value) == GENERIC_MESSAGE
        assert run_trigger("post_authentication", {"user_id": "u", "amr": ["pwd"]}) == {}
        assert run_trigger("custom_message", {"message": "x"}) == {}
    assert "RuntimeError" in caplog.text
    assert "hunter2" not in caplog.text


def test_malformed_answer_fails_closed(tmp_path, postgres_schema):
    app = _app(tmp_path, postgres_schema, trigger_pre_sign_up="tests.test_triggers:wrong_types")
    with app.app_context(), pytest.raises(TriggerAbort, match="try again later"):
        run_trigger("pre_sign_up", {"email": "a@example.com"})


def test_abort_answer_only_counts_for_pre_triggers(tmp_path, postgres_schema):
    app = _app(tmp_path, postgres_schema, trigger_pre_sign_up="tests.test_triggers:abort_dict",
               trigger_post_confirmation="tests.test_triggers:abort_dict")
    with app.app_context():
        with pytest.raises(TriggerAbort, match="Not today"):
            run_trigger("pre_sign_up", {"email": "a@example.com"})
        assert run_trigger("post_confirmation", {"user_id": "u"}) == {}


def test_callable_gets_a_copy_of_the_event(tmp_path, postgres_schema):
    app = _app(tmp_path, postgres_schema, trigger_pre_sign_up="tests.test_triggers:mutate_event")
    event = {"email": "a@example.com", "attributes": {"plan": "free"}, "client_id": "c"}
    with app.app_context():
        run_trigger("pre_sign_up", event)
    assert event == {"email": "a@example.com", "attributes": {"plan": "free"}, "client_id": "c"}


@pytest.mark.parametrize("target, message", [
    ("tests.test_triggers:does_not_exist", "cannot import"),
    ("no_such_module_anywhere:function", "cannot import"),
    ("tests.test_triggers:NOT_CALLABLE", "not callable"),
    ("https://127.0.0.1:1/hook", "WEBHOOK_SECRET"),
])
def test_bad_configuration_stops_start_up(tmp_path, postgres_schema, target, message):
    with pytest.raises(ConfigError, match=message):
        _app(tmp_path, postgres_schema, trigger_pre_sign_up=target)


def test_entry_point_group(tmp_path, postgres_schema, monkeypatch):
    package = tmp_path / "site"
    package.mkdir()
    (package / "fd_hooks_demo.py").write_text(
        "def pre_sign_up(event):\n    return {'auto_verify_email': True}\n")
    dist = package / "fd_hooks_demo-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: fd-hooks-demo\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[frontdesk.triggers]\npre_sign_up = fd_hooks_demo:pre_sign_up\n"
        "not_a_trigger = fd_hooks_demo:pre_sign_up\n")
    monkeypatch.syspath_prepend(str(package))
    app = _app(tmp_path, postgres_schema)
    with app.app_context():
        assert frontdesk_state().triggers.describe() == {"pre_sign_up": "callable"}
        assert run_trigger("pre_sign_up", {"email": "a@example.com"}) == {
            "auto_verify_email": True}
    # a setting wins over the entry point
    app = _app(tmp_path / "b", postgres_schema,
               trigger_pre_sign_up="tests.test_triggers:reject_example_org")
    with app.app_context():
        assert run_trigger("pre_sign_up", {"email": "a@example.com"})["auto_confirm"] is True


# --- webhooks -------------------------------------------------------------------------------


class Receiver:
    """A webhook receiver that verifies X-Frontdesk-Signature with its own secret."""

    def __init__(self, secret: str = SECRET) -> None:
        self.secret = secret
        self.requests: list[dict] = []
        self.answer: tuple[int, bytes] = (200, b"{}")
        self.delay_seconds = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                timestamp = self.headers.get("X-Frontdesk-Timestamp", "")
                signature = self.headers.get("X-Frontdesk-Signature", "")
                expected = "sha256=" + hmac.new(receiver.secret.encode(),
                                                timestamp.encode() + b"." + body,
                                                hashlib.sha256).hexdigest()
                fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) < 300
                valid = fresh and hmac.compare_digest(expected, signature)
                receiver.requests.append({"body": json.loads(body), "valid": valid,
                                          "headers": dict(self.headers)})
                time.sleep(receiver.delay_seconds)
                status, payload = receiver.answer if valid else (401, b'{"error": "sig"}')
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


def _webhook_app(tmp_path, postgres_schema, url, **settings):
    base = {"trigger_pre_sign_up": url, "trigger_post_confirmation": url,
            "trigger_pre_token_generation": url, "trigger_webhook_secret": SECRET,
            "trigger_timeout_seconds": 1}
    return _app(tmp_path, postgres_schema, **(base | settings))


def test_webhook_is_signed_and_answered(tmp_path, postgres_schema, receiver):
    receiver.answer = (200, b'{"auto_confirm": true, "auto_verify_email": true}')
    app = _webhook_app(tmp_path, postgres_schema, receiver.url)
    event = {"email": "a@example.com", "attributes": {"plan": "pro"}, "client_id": "c"}
    with app.app_context():
        assert run_trigger("pre_sign_up", event) == {"auto_confirm": True,
                                                     "auto_verify_email": True}
    sent = receiver.requests[0]
    assert sent["valid"] is True
    assert sent["body"] == {"trigger": "pre_sign_up", "event": event}
    assert sent["headers"]["Content-Type"] == "application/json"


def test_receiver_refuses_a_bad_signature(tmp_path, postgres_schema, caplog):
    liar = Receiver(secret="another-secret-" + "z" * 24)
    try:
        app = _webhook_app(tmp_path, postgres_schema, liar.url)
        with app.app_context(), caplog.at_level(logging.WARNING, "frontdesk.triggers"):
            with pytest.raises(TriggerAbort) as info:
                run_trigger("pre_sign_up", {"email": "a@example.com"})
            assert str(info.value) == GENERIC_MESSAGE
            assert run_trigger("post_confirmation", {"user_id": "u"}) == {}
    finally:
        liar.close()
    assert [r["valid"] for r in liar.requests] == [False, False]
    assert "HTTP 401" in caplog.text


def test_webhook_timeout_fails_closed_quickly(tmp_path, postgres_schema, receiver):
    receiver.delay_seconds = 3
    app = _webhook_app(tmp_path, postgres_schema, receiver.url)
    with app.app_context():
        started = time.monotonic()
        with pytest.raises(TriggerAbort, match="try again later"):
            run_trigger("pre_sign_up", {"email": "a@example.com"})
        assert time.monotonic() - started < 2.5
        started = time.monotonic()
        assert run_trigger("post_confirmation", {"user_id": "u"}) == {}
        assert time.monotonic() - started < 2.5


@pytest.mark.parametrize("status, payload", [
    (500, b"{}"), (200, b"not json"), (200, b"[1, 2]"), (302, b""),
    (200, b'{"auto_confirm": "sure"}'),
])
def test_webhook_nonsense_fails_closed(tmp_path, postgres_schema, receiver, status, payload):
    receiver.answer = (status, payload)
    app = _webhook_app(tmp_path, postgres_schema, receiver.url)
    with app.app_context(), pytest.raises(TriggerAbort, match="try again later"):
        run_trigger("pre_sign_up", {"email": "a@example.com"})


def test_webhook_abort_message_reaches_the_user(tmp_path, postgres_schema, receiver):
    receiver.answer = (200, b'{"abort": "Use your work address."}')
    app = _webhook_app(tmp_path, postgres_schema, receiver.url)
    with app.app_context(), pytest.raises(TriggerAbort, match="Use your work address."):
        run_trigger("pre_sign_up", {"email": "a@gmail.example"})


def test_webhook_unreachable_is_logged_for_post(tmp_path, postgres_schema, caplog):
    app = _webhook_app(tmp_path, postgres_schema, "http://127.0.0.1:9/nothing")
    with app.app_context(), caplog.at_level(logging.WARNING, "frontdesk.triggers"):
        assert run_trigger("post_confirmation", {"user_id": "u"}) == {}
    assert "post_confirmation" in caplog.text


def test_pre_token_generation_webhook_changes_claims(tmp_path, postgres_schema, receiver):
    receiver.answer = (200, json.dumps({
        "claims_to_add_or_override": {"tier": "gold"}, "groups_override": ["a", "b"],
        "access_token": {"claims_to_suppress": ["email"]}}).encode())
    app = _webhook_app(tmp_path, postgres_schema, receiver.url)
    with app.app_context():
        user = create_user(frontdesk_state().settings, email="t@example.com", password=None)
        db.session.commit()
        id_claims = {"sub": user.id, "email": "t@example.com"}
        access = {"sub": user.id, "email": "t@example.com", "scope": "openid"}
        customize_token_claims(user, "client-1", ["openid", "email"], id_claims, access)
    assert id_claims == {"sub": user.id, "email": "t@example.com", "tier": "gold",
                         "groups": ["a", "b"]}
    assert access == {"sub": user.id, "scope": "openid", "tier": "gold", "groups": ["a", "b"]}
    event = receiver.requests[0]["body"]["event"]
    assert event["client_id"] == "client-1" and event["user_id"] == user.id
    assert event["id_token_claims"]["email"] == "t@example.com"


def test_signature_helpers():
    body = b'{"a":1}'
    now = time.time()
    timestamp = str(int(now))
    signature = sign_payload(SECRET, timestamp, body)
    assert signature == "sha256=" + hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body,
                                             hashlib.sha256).hexdigest()
    assert verify_signature(SECRET, timestamp, body, signature)
    assert not verify_signature(SECRET, timestamp, body + b" ", signature)
    assert not verify_signature("other", timestamp, body, signature)
    assert not verify_signature(SECRET, timestamp, body, signature, now=now + 301)
    assert not verify_signature(SECRET, "not-a-number", body, signature)


# --- pre_token_generation and attribute claims ----------------------------------------------

ATTRIBUTES = json.dumps([
    {"name": "plan", "type": "string", "scope": "profile", "access_token": True},
    {"name": "org_id", "type": "string", "claim": "org", "scope": "org",
     "read_clients": ["trusted"]},
    {"name": "hidden", "type": "string", "claim": None},
])


def test_customize_token_claims_with_callable(tmp_path, postgres_schema):
    app = _app(tmp_path, postgres_schema, custom_attributes=ATTRIBUTES,
               trigger_pre_token_generation="tests.test_triggers:token_claims")
    with app.app_context():
        user = create_user(frontdesk_state().settings, email="c@example.com", password=None,
                           attributes={"plan": "free", "org_id": "o-1", "hidden": "h"})
        db.session.commit()
        id_claims = {"iss": "https://issuer", "sub": user.id, "aud": "x", "nonce": "n",
                     "email": "c@example.com", "name": "C", "groups": ["g"]}
        access = {"iss": "https://issuer", "sub": user.id, "aud": "x", "scope": "openid",
                  "name": "C"}
        userinfo = {"sub": user.id}
        customize_token_claims(user, "trusted", ["openid", "profile", "org"], id_claims,
                               access, userinfo)
    assert id_claims == {"iss": "https://issuer", "sub": user.id, "aud": "x", "nonce": "n",
                         "name": "Overridden", "groups": ["vip"], "plan": "pro", "org": "o-1",
                         "only_id": True}
    assert access == {"iss": "https://issuer", "sub": user.id, "aud": "x", "scope": "openid",
                      "plan": "pro", "groups": ["vip"]}
    assert userinfo == {"sub": user.id, "plan": "free", "org": "o-1"}  # no trigger on userinfo
    assert CALLS[0]["attributes"] == {"plan": "free", "org_id": "o-1", "hidden": "h"}
    assert CALLS[0]["scopes"] == ["openid", "profile", "org"]


def test_attribute_claims_follow_scope_and_client(tmp_path, postgres_schema):
    app = _app(tmp_path, postgres_schema, custom_attributes=ATTRIBUTES)
    with app.app_context():
        user = User(email="d@example.com", attributes={"plan": "free", "org_id": "o-1"})
        for scopes, client_id, expected in [
            (["openid"], "trusted", {}),
            (["openid", "profile"], "other", {"plan": "free"}),
            (["openid", "org"], "other", {}),
            (["openid", "org", "profile"], "trusted", {"plan": "free", "org": "o-1"}),
        ]:
            claims: dict = {}
            customize_token_claims(user, client_id, scopes, claims, None, None)
            assert claims == expected, (scopes, client_id)
        claims = {}
        customize_token_claims(None, "trusted", ["profile"], claims, {}, None)
        assert claims == {}


def test_trigger_abort_in_token_generation_fails_closed(tmp_path, postgres_schema):
    app = _app(tmp_path, postgres_schema, trigger_pre_token_generation="tests.test_triggers:broken")
    with app.app_context(), pytest.raises(TriggerAbort):
        customize_token_claims(None, "c", [], {"sub": "c"}, {"sub": "c"})
