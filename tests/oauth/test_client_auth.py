"""private_key_jwt client authentication (app/oauth/client_auth.py), RFC 7523."""

from __future__ import annotations

import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from tests.oauth.conftest import add_client

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TOKEN_URL = "http://127.0.0.1:5000/oauth2/token"


def make_key(alg: str = "RS256"):
    params = {"kid": secrets.token_hex(4), "alg": alg, "use": "sig"}
    if alg.startswith("ES"):
        return ECKey.generate_key("P-256", parameters=params)
    return RSAKey.generate_key(2048, parameters=params)


def assertion(client_id: str, key, alg: str = "RS256", aud=TOKEN_URL,
              lifetime: int = 60, **overrides) -> str:
    """A client assertion; an override of None leaves that claim out."""
    now = int(time.time())
    claims = {"iss": client_id, "sub": client_id, "aud": aud,
              "jti": secrets.token_urlsafe(8), "iat": now, "exp": now + lifetime}
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode({"alg": alg, "kid": key.kid}, claims, key, algorithms=[alg])


def jwt_client(app, key, **options) -> dict:
    options.setdefault("jwks", {"keys": [key.as_dict(private=False)]})
    return add_client(app, name="Signed", auth_method="private_key_jwt",
                      grant_types=["client_credentials"], redirect_uris=[],
                      scopes=["api:read"], **options)


def client_credentials(client, client_id, signed):
    return client.post("/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": client_id,
        "client_assertion_type": ASSERTION_TYPE, "client_assertion": signed})


@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES256"])
def test_private_key_jwt_with_registered_jwks(client, app, alg):
    key = make_key(alg)
    registered = jwt_client(app, key)
    response = client_credentials(client, registered["client_id"],
                                  assertion(registered["client_id"], key, alg))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["scope"] == "api:read"
    assert registered["client_secret"] is None


def test_issuer_is_an_accepted_audience(client, app):
    key = make_key()
    registered = jwt_client(app, key)
    signed = assertion(registered["client_id"], key, aud="http://127.0.0.1:5000")
    assert client_credentials(client, registered["client_id"], signed).status_code == 200


def test_assertion_jti_is_single_use(client, app):
    key = make_key()
    registered = jwt_client(app, key)
    signed = assertion(registered["client_id"], key)
    assert client_credentials(client, registered["client_id"], signed).status_code == 200
    replay = client_credentials(client, registered["client_id"], signed)
    assert replay.status_code == 400 and replay.get_json()["error"] == "invalid_client"


@pytest.mark.parametrize("change", [
    {"aud": "https://elsewhere.example/token"},
    {"exp": int(time.time()) - 120},
    {"lifetime": 7200},
    {"iss": "someone-else"},
    {"jti": ""},
    {"jti": None},
    {"jti": 42},
])
def test_bad_assertions_are_invalid_client(client, app, change):
    key = make_key()
    registered = jwt_client(app, key)
    lifetime = change.pop("lifetime", 60)
    signed = assertion(registered["client_id"], key, lifetime=lifetime, **change)
    response = client_credentials(client, registered["client_id"], signed)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_client"


def test_assertion_signed_by_another_key(client, app):
    registered = jwt_client(app, make_key())
    signed = assertion(registered["client_id"], make_key())
    assert client_credentials(client, registered["client_id"], signed).status_code == 400


def test_secret_client_cannot_use_an_assertion(client, app, oauth_client):
    key = make_key()
    signed = assertion(oauth_client["client_id"], key)
    response = client_credentials(client, oauth_client["client_id"], signed)
    assert response.get_json()["error"] == "invalid_client"


def test_garbage_assertion(client, app):
    registered = jwt_client(app, make_key())
    for junk in ("abc", "a.b.c", "e30.e30.e30"):
        response = client_credentials(client, registered["client_id"], junk)
        assert response.status_code == 400 and response.get_json()["error"] == "invalid_client"


@pytest.fixture
def jwks_server():
    """A real HTTP server on 127.0.0.1 publishing a client's JWKS."""
    served = {"jwks": {"keys": []}, "hits": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            served["hits"] += 1
            body = json.dumps(served["jwks"]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    served["url"] = f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    yield served
    server.shutdown()
    server.server_close()


def test_private_key_jwt_with_jwks_uri(client, app, jwks_server):
    key = make_key("ES256")
    jwks_server["jwks"] = {"keys": [key.as_dict(private=False)]}
    registered = jwt_client(app, key, jwks=None, jwks_uri=jwks_server["url"])
    for _ in range(2):
        signed = assertion(registered["client_id"], key, "ES256")
        assert client_credentials(client, registered["client_id"], signed).status_code == 200
    assert jwks_server["hits"] == 1  # kept in the store for a minute


def test_unreachable_jwks_uri_is_invalid_client(client, app):
    key = make_key()
    registered = jwt_client(app, key, jwks=None, jwks_uri="http://127.0.0.1:9/jwks.json")
    response = client_credentials(client, registered["client_id"],
                                  assertion(registered["client_id"], key))
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_client"


def test_private_key_jwt_in_the_code_flow_and_revocation(flow, client, app):
    key = make_key()
    registered = add_client(app, name="Signed web", auth_method="private_key_jwt",
                            jwks={"keys": [key.as_dict(private=False)]}, is_first_party=True)
    req = flow.request(registered)
    form = req.token_form(flow.code(req))
    form.update(client_assertion_type=ASSERTION_TYPE,
                client_assertion=assertion(registered["client_id"], key))
    response = client.post("/oauth2/token", data=form)
    assert response.status_code == 200, response.get_json()
    tokens = response.get_json()
    revoke = client.post("/oauth2/revoke", data={
        "token": tokens["refresh_token"], "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion(registered["client_id"], key,
                                      aud="http://127.0.0.1:5000/oauth2/revoke")})
    assert revoke.status_code == 200
