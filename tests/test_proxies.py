"""Trusted reverse proxies: the client's address and scheme from X-Forwarded-*, believed only
from the configured peers (app.proxies)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.config import ConfigError, load_settings
from app.extensions import db
from app.models import AuditEvent
from app.proxies import TrustedProxies, parse_networks
from tests.hosted.helpers import csrf_token, custom_apps, login, post_form


@pytest.fixture
def custom_app(tmp_path, postgres_schema):
    yield from custom_apps(tmp_path, postgres_schema)


def seen_by_app(networks: str, remote_addr: str, headers: dict[str, str]) -> dict:
    """What the wrapped application sees of REMOTE_ADDR and the scheme."""
    seen = {}

    def inner(environ, start_response):
        seen.update(addr=environ["REMOTE_ADDR"], scheme=environ["wsgi.url_scheme"])
        start_response("204 No Content", [])
        return []

    middleware = TrustedProxies(inner, parse_networks(networks.split(",")))
    environ = {"REMOTE_ADDR": remote_addr, "wsgi.url_scheme": "http"}
    environ.update({"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()})
    middleware(environ, lambda status, headers: None)
    return seen


@pytest.mark.parametrize(("remote", "forwarded_for", "client"), [
    # the proxy on this machine forwards a client
    ("127.0.0.1", "203.0.113.7", "203.0.113.7"),
    # a client's own X-Forwarded-For is left of what the proxy appended: ignored
    ("127.0.0.1", "1.2.3.4, 203.0.113.7", "203.0.113.7"),
    # two trusted hops (an edge proxy in 10/8, then the local one)
    ("127.0.0.1", "198.51.100.9, 10.1.2.3", "198.51.100.9"),
    # every hop trusted: the leftmost
    ("127.0.0.1", "10.0.0.5, 10.1.2.3", "10.0.0.5"),
    # not an address: the walk stops at the last trusted hop
    ("127.0.0.1", "unknown", "127.0.0.1"),
    ("127.0.0.1", "203.0.113.7, garbage", "127.0.0.1"),
    ("127.0.0.1", "", "127.0.0.1"),
    # IPv6 and an IPv4-mapped peer
    ("::1", "2001:db8::5", "2001:db8::5"),
    ("::ffff:127.0.0.1", "203.0.113.7", "203.0.113.7"),
    # a peer that is not a trusted proxy cannot choose its address
    ("198.51.100.1", "127.0.0.1", "198.51.100.1"),
    ("10.9.9.9", "203.0.113.7", "10.9.9.9"),  # only 10.1.0.0/16 is trusted below
])
def test_client_address_walks_from_the_right(remote, forwarded_for, client):
    seen = seen_by_app("127.0.0.1,::1,10.1.0.0/16,10.0.0.5", remote,
                       {"X-Forwarded-For": forwarded_for})
    assert seen["addr"] == client


def test_scheme_only_from_a_trusted_peer():
    assert seen_by_app("127.0.0.1", "127.0.0.1",
                       {"X-Forwarded-Proto": "https"})["scheme"] == "https"
    assert seen_by_app("127.0.0.1", "127.0.0.1",
                       {"X-Forwarded-Proto": "http, https"})["scheme"] == "https"
    assert seen_by_app("127.0.0.1", "127.0.0.1",
                       {"X-Forwarded-Proto": "gopher"})["scheme"] == "http"
    assert seen_by_app("127.0.0.1", "192.0.2.1",
                       {"X-Forwarded-Proto": "https"})["scheme"] == "http"


def test_bad_setting_stops_start_up():
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES: 'proxy.internal' is not an IP"):
        load_settings({"FRONTDESK_TRUSTED_PROXIES": "127.0.0.1, proxy.internal"})
    assert load_settings({"FRONTDESK_TRUSTED_PROXIES": ""}).trusted_proxies == ""


def test_burst_limit_counts_each_forwarded_client(custom_app):
    """Behind the local proxy, two users are two addresses; a client that is not a proxy is
    one address whatever X-Forwarded-For it sends."""
    app = custom_app(ip_max_requests_per_minute=2)
    proxied = app.test_client()
    form = {"email": "a@example.com", "password": "x"}
    for user_ip in ("203.0.113.1", "203.0.113.2"):
        headers = {"X-Forwarded-For": user_ip}
        for _ in range(2):
            assert post_form(proxied, "/login", form, headers=headers).status_code == 200
        assert post_form(proxied, "/login", form, headers=headers).status_code == 429

    direct = app.test_client()
    direct.environ_base["REMOTE_ADDR"] = "198.51.100.1"
    for n in range(3):
        response = post_form(direct, "/login", form, headers={"X-Forwarded-For": f"192.0.2.{n}"})
        assert response.status_code == (429 if n == 2 else 200)


def test_without_trusted_proxies_forwarded_headers_are_ignored(custom_app):
    app = custom_app(trusted_proxies="", ip_max_requests_per_minute=2)
    client = app.test_client()
    form = {"email": "a@example.com", "password": "x"}
    for n in range(3):
        response = post_form(client, "/login", form, headers={"X-Forwarded-For": f"192.0.2.{n}"})
        assert response.status_code == (429 if n == 2 else 200)


def test_audit_event_records_the_forwarded_client(app, user):
    client = app.test_client()
    response = login(client, user["email"], user["password"])
    assert response.status_code == 303  # page fetched and posted without the header: proxy
    client = app.test_client()
    page = client.get("/login")
    response = client.post("/login", headers={"X-Forwarded-For": "203.0.113.50"}, data={
        "csrf_token": csrf_token(page), "email": user["email"], "password": user["password"]})
    assert response.status_code == 303
    with app.app_context():
        ips = db.session.scalars(select(AuditEvent.ip).where(
            AuditEvent.type == "login_success").order_by(AuditEvent.created_at)).all()
    assert ips == ["127.0.0.1", "203.0.113.50"]


def test_token_endpoint_behind_a_tls_proxy(app, oauth_client, monkeypatch):
    """Authlib refuses plain http on a public host name: behind a TLS-terminating proxy the
    scheme it forwarded makes the request https, from a trusted peer only."""
    from tests.oauth.helpers import basic_auth

    monkeypatch.delenv("AUTHLIB_INSECURE_TRANSPORT", raising=False)
    auth = basic_auth(oauth_client["client_id"], oauth_client["client_secret"])

    def token(remote_addr: str, **headers: str):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = remote_addr
        return client.post("/oauth2/token", data={"grant_type": "client_credentials"},
                           headers={**auth, **headers}, base_url="http://id.example")

    proxied = token("127.0.0.1", **{"X-Forwarded-Proto": "https"})
    assert proxied.status_code == 200 and proxied.get_json()["access_token"]
    assert token("127.0.0.1").get_json()["error"] == "insecure_transport"
    spoofed = token("198.51.100.1", **{"X-Forwarded-Proto": "https"})
    assert spoofed.status_code == 400 and spoofed.get_json()["error"] == "insecure_transport"
