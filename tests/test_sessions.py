"""Server-side sessions, on both store backends (embedded SQL and Redis), real time.

A few test-only routes drive the session the way hosted pages will.
"""

from __future__ import annotations

import re
import time
import uuid

import pytest
import redis as redis_lib
from flask import Blueprint, jsonify, request, session
from sqlalchemy import text

from app.extensions import db, frontdesk_state
from app.sessions import current_login, end_login_session, end_user_sessions, start_login_session
from app.store import RedisStore, SQLStore
from tests.conftest import STORE_REDIS_URL, make_app
from tests.live import free_port

COOKIE = "frontdesk_session"
SID = re.compile(r"^[A-Za-z0-9_-]{43}$")  # 32 random bytes, base64url: 256 bits

probe = Blueprint("probe", __name__)


@probe.get("/_t/set")
def set_values():
    session.update(request.args.to_dict())
    return "ok"


@probe.get("/_t/get")
def get_values():
    return jsonify({k: v for k, v in session.items() if not k.startswith("_")})


@probe.get("/_t/login/<uid>")
def login(uid):
    start_login_session(uid, ["pwd"], "urn:frontdesk:acr:password")
    return "ok"


@probe.get("/_t/whoami")
def whoami():
    state = current_login()
    return jsonify(None if state is None else {
        "user_id": state.user_id, "amr": list(state.amr), "acr": state.acr,
        "auth_time": state.auth_time})


@probe.get("/_t/logout")
def logout():
    end_login_session()
    return "ok"


@probe.get("/_t/regenerate")
def regenerate():
    session.regenerate()
    return "ok"


@probe.get("/_t/nothing")
def nothing():
    return "ok"


def session_app(tmp_path, backend: str, **overrides):
    app = make_app(tmp_path, **overrides)
    app.register_blueprint(probe)
    if backend == "redis":
        store = RedisStore(STORE_REDIS_URL, f"fdsesstest:{uuid.uuid4().hex}:")
    else:
        with app.app_context():
            store = SQLStore(db.engine)
    frontdesk_state(app).store = store
    return app


@pytest.fixture(params=["sql", "redis"])
def backend(request):
    return request.param


@pytest.fixture
def make(tmp_path, backend, postgres_schema):
    apps = []

    def factory(**overrides):
        app = session_app(tmp_path / f"app{len(apps)}", backend, **overrides)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        store = frontdesk_state(app).store
        if isinstance(store, RedisStore) and store.prefix.startswith("fdsesstest:"):
            keys = list(store.client.scan_iter(match=store.prefix + "*"))
            if keys:
                store.client.delete(*keys)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def sapp(make):
    return make()


def set_cookie_header(response, name=COOKIE) -> str:
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(name + "=")]
    assert len(headers) == 1, response.headers.getlist("Set-Cookie")
    return headers[0]


def cookie_value(response, name=COOKIE) -> str:
    return set_cookie_header(response, name).split(";")[0].split("=", 1)[1]


def stored(app, sid):
    return frontdesk_state(app).store.get_json(f"sess:{sid}")


def browser(app, sid=None):
    client = app.test_client()
    if sid:
        client.set_cookie(COOKIE, sid)
    return client


def test_cookie_holds_only_a_random_id(sapp):
    one, two = sapp.test_client(), sapp.test_client()
    response = one.get("/_t/set?secret=s3cr3t-value")
    assert "s3cr3t" not in " ".join(response.headers.getlist("Set-Cookie"))
    sid_one = cookie_value(response)
    sid_two = cookie_value(two.get("/_t/set?secret=s3cr3t-value"))
    assert SID.match(sid_one) and SID.match(sid_two)
    assert sid_one != sid_two
    assert stored(sapp, sid_one)["secret"] == "s3cr3t-value"
    assert one.get("/_t/get").json == {"secret": "s3cr3t-value"}


def test_cookie_flags_on_http(sapp):
    header = set_cookie_header(sapp.test_client().get("/_t/set?a=1"))
    attributes = {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}
    assert "httponly" in attributes
    assert "samesite=lax" in header.lower()
    assert "path=/" in header.lower()
    assert "secure" not in attributes  # browsers drop Secure cookies on plain http


def test_cookie_is_secure_when_the_issuer_is_https(make):
    app = make(issuer="https://id.example.com")
    header = set_cookie_header(app.test_client().get("/_t/set?a=1", base_url="https://id.example.com"))
    attributes = {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}
    assert {"secure", "httponly"} <= attributes
    assert "samesite=lax" in header.lower()


def test_cookie_name_is_configurable(make):
    app = make(session_cookie_name="fd_custom")
    client = app.test_client()
    response = client.get("/_t/set?a=1")
    assert SID.match(cookie_value(response, "fd_custom"))
    assert not [h for h in response.headers.getlist("Set-Cookie") if h.startswith(COOKIE)]
    assert client.get("/_t/get").json == {"a": "1"}


def test_no_cookie_when_the_session_is_unused_or_empty(sapp):
    client = sapp.test_client()
    assert "Set-Cookie" not in client.get("/_t/nothing").headers
    assert "Set-Cookie" not in client.get("/_t/get").headers
    assert client.get("/_t/get").headers["Vary"] == "Cookie"


def test_unchanged_session_is_not_reissued(sapp):
    client = sapp.test_client()
    client.get("/_t/set?a=1")
    assert "Set-Cookie" not in client.get("/_t/get").headers


def test_login_rotates_the_id_and_keeps_the_data(sapp):
    client = sapp.test_client()
    before = cookie_value(client.get("/_t/set?cart=1"))
    after = cookie_value(client.get("/_t/login/user-1"))
    assert after != before and SID.match(after)
    assert client.get("/_t/whoami").json["user_id"] == "user-1"
    assert client.get("/_t/get").json["cart"] == "1"
    # The old id is dead: data gone from the store, and the cookie is not honoured.
    assert stored(sapp, before) is None
    old = browser(sapp, before)
    assert old.get("/_t/whoami").json is None
    assert old.get("/_t/get").json == {}


def test_login_state(sapp):
    client = sapp.test_client()
    started = int(time.time())
    client.get("/_t/login/user-1")
    state = client.get("/_t/whoami").json
    assert state["amr"] == ["pwd"]
    assert state["acr"] == "urn:frontdesk:acr:password"
    assert started <= state["auth_time"] <= time.time()


def test_a_planted_session_id_is_never_adopted(sapp):
    planted = "A" * 43  # an id the attacker chose and gave the victim
    victim = browser(sapp, planted)
    issued = cookie_value(victim.get("/_t/login/victim"))
    assert issued != planted
    assert stored(sapp, planted) is None
    assert browser(sapp, planted).get("/_t/whoami").json is None


@pytest.mark.parametrize("value", ["short", "x" * 200, "../../etc/passwd" + "a" * 30, ""])
def test_malformed_cookies_start_a_new_session(sapp, value):
    client = browser(sapp, value)
    response = client.get("/_t/set?a=1")
    assert SID.match(cookie_value(response))
    assert cookie_value(response) != value


def test_regenerate_keeps_data_under_a_new_id(sapp):
    client = sapp.test_client()
    before = cookie_value(client.get("/_t/set?a=1"))
    after = cookie_value(client.get("/_t/regenerate"))
    assert after != before
    assert client.get("/_t/get").json == {"a": "1"}
    assert browser(sapp, before).get("/_t/get").json == {}


def test_logout_forgets_data_and_id(sapp):
    client = sapp.test_client()
    sid = cookie_value(client.get("/_t/login/user-1"))
    response = client.get("/_t/logout")
    header = set_cookie_header(response)
    assert header.startswith(COOKIE + "=;")
    assert "Max-Age=0" in header or "expires=Thu, 01 Jan 1970" in header
    assert stored(sapp, sid) is None
    assert client.get("/_t/whoami").json is None
    assert browser(sapp, sid).get("/_t/whoami").json is None
    with sapp.app_context():
        assert frontdesk_state(sapp).store.set_members("user_sessions:user-1") == set()


def test_end_user_sessions_ends_every_session_of_that_user(sapp):
    laptop, phone, other = sapp.test_client(), sapp.test_client(), sapp.test_client()
    laptop_sid = cookie_value(laptop.get("/_t/login/user-1"))
    phone.get("/_t/login/user-1")
    other.get("/_t/login/user-2")
    store = frontdesk_state(sapp).store
    with sapp.app_context():
        assert end_user_sessions(store, "user-1") == 2
    assert laptop.get("/_t/whoami").json is None
    assert phone.get("/_t/whoami").json is None
    assert other.get("/_t/whoami").json["user_id"] == "user-2"
    assert store.set_members("user_sessions:user-1") == set()
    # A request that was in flight and writes the session back does not revive it.
    store.set_json(f"sess:{laptop_sid}", {"uid": "user-1", "_created_at": time.time() - 5,
                                          "_touched_at": time.time()}, 60)
    assert browser(sapp, laptop_sid).get("/_t/whoami").json is None
    # Signing in again afterwards works.
    time.sleep(0.01)
    laptop.get("/_t/login/user-1")
    assert laptop.get("/_t/whoami").json["user_id"] == "user-1"


def test_end_user_sessions_outside_a_request(sapp):
    client = sapp.test_client()
    client.get("/_t/login/user-1")
    assert end_user_sessions(frontdesk_state(sapp).store, "user-1", ttl_seconds=60) == 1
    assert client.get("/_t/whoami").json is None


def test_idle_timeout(make):
    app = make(session_idle_seconds=3, session_absolute_seconds=60)
    client = app.test_client()
    client.get("/_t/login/user-1")
    for _ in range(4):  # activity every second keeps it alive past the idle timeout
        time.sleep(1)
        assert client.get("/_t/whoami").json is not None
    time.sleep(3.2)  # then idle for longer than allowed
    assert client.get("/_t/whoami").json is None


def test_absolute_timeout_counts_from_login(make):
    app = make(session_idle_seconds=60, session_absolute_seconds=4)
    client = app.test_client()
    client.get("/_t/set?a=1")
    time.sleep(2.5)
    response = client.get("/_t/login/user-1")  # the clock restarts at login
    assert 1 <= int(re.search(r"Max-Age=(\d+)", set_cookie_header(response)).group(1)) <= 4
    time.sleep(2)  # 4.5 s after the session began, 2 s after login
    assert client.get("/_t/whoami").json is not None
    deadline = time.time() + 4
    while client.get("/_t/whoami").json is not None:  # used all along, ends anyway
        assert time.time() < deadline, "absolute timeout not enforced"
        time.sleep(0.3)


def test_store_outage_answers_503_and_spares_health(sapp):
    client = sapp.test_client()
    client.get("/_t/set?a=1")
    frontdesk_state(sapp).store = RedisStore(f"redis://127.0.0.1:{free_port()}/0")
    assert client.get("/healthz").status_code == 200  # the session is never loaded
    response = client.get("/_t/get", headers={"Accept": "application/json"})
    assert response.status_code == 503
    assert response.json["error"] == "temporarily_unavailable"
    page = client.get("/_t/get")
    assert page.status_code == 503 and b"temporarily unavailable" in page.data


def test_store_outage_while_saving_answers_503(sapp):
    sapp.config["PROPAGATE_EXCEPTIONS"] = False  # as in production, not as under TESTING
    client = sapp.test_client()
    frontdesk_state(sapp).store = RedisStore(f"redis://127.0.0.1:{free_port()}/0")
    response = client.get("/_t/set?a=1", headers={"Accept": "application/json"})
    assert response.status_code == 503


def test_sessions_live_in_the_selected_backend(make, backend):
    app = make()
    sid = cookie_value(app.test_client().get("/_t/set?a=1"))
    store = frontdesk_state(app).store
    if backend == "redis":
        raw = redis_lib.Redis.from_url(STORE_REDIS_URL).get(f"{store.prefix}sess:{sid}")
        assert raw is not None and b'"a":"1"' in raw
    else:
        with app.app_context():
            value = db.session.execute(text("SELECT value FROM store_entries WHERE key = :k"),
                                       {"k": f"sess:{sid}"}).scalar()
        assert '"a":"1"' in value
