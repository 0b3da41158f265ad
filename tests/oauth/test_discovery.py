"""Discovery and JWKS (app/oauth/discovery.py): cacheable prebuilt documents, and honesty:
every advertised value is exercised here and works."""

from __future__ import annotations

import re

import pytest

from tests.oauth.conftest import Flow, add_client, add_user
from tests.oauth.helpers import AuthorizationRequest, basic_auth, redirect_params, verify_jwt
from tests.oauth.test_client_auth import ASSERTION_TYPE, assertion, make_key

ISSUER = "http://127.0.0.1:5000"


@pytest.fixture
def metadata(client):
    response = client.get("/.well-known/openid-configuration")
    assert response.status_code == 200
    return response.get_json()


def test_document_shape(metadata):
    assert metadata["issuer"] == ISSUER
    for name in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri",
                 "revocation_endpoint", "introspection_endpoint", "end_session_endpoint"):
        assert metadata[name].startswith(ISSUER + "/"), name
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["authorization_response_iss_parameter_supported"] is True
    assert metadata["response_types_supported"] == ["code"]
    assert metadata["request_uri_parameter_supported"] is False


def test_every_endpoint_is_served(client, metadata):
    for name, value in metadata.items():
        if name.endswith("_endpoint") or name == "jwks_uri":
            path = value.removeprefix(ISSUER)
            assert client.get(path).status_code != 404 or client.post(path).status_code != 404


def test_discovery_is_cacheable_and_conditional(client):
    first = client.get("/.well-known/openid-configuration")
    assert re.fullmatch(r"public, max-age=\d+", first.headers["Cache-Control"])
    etag = first.headers["ETag"]
    again = client.get("/.well-known/openid-configuration", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""


def test_jwks(client):
    response = client.get("/.well-known/jwks.json")
    assert response.headers["Cache-Control"] == "public, max-age=300"
    keys = response.get_json()["keys"]
    assert {k["alg"] for k in keys} == {"RS256", "ES256"}
    assert len(keys) == 4  # active + next of each algorithm: the next key is published early
    for key in keys:
        assert key["kid"] and key["use"] == "sig"
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)
    etag = response.headers["ETag"]
    assert client.get("/.well-known/jwks.json",
                      headers={"If-None-Match": etag}).status_code == 304


# --- honesty -------------------------------------------------------------------------------


def test_response_modes(flow, client, oauth_client, metadata):
    flow.sign_in()
    for mode in metadata["response_modes_supported"]:
        response = client.get(flow.request(oauth_client).url(response_mode=mode))
        if mode == "query":
            assert "code" in redirect_params(response)
        else:
            assert 'name="code"' in response.get_data(as_text=True)


def test_grant_types(flow, client, oauth_client, metadata):
    tokens = flow.tokens(oauth_client)
    for grant in metadata["grant_types_supported"]:
        form = {"grant_type": grant}
        if grant == "refresh_token":
            form["refresh_token"] = tokens["refresh_token"]
        elif grant == "authorization_code":
            req = flow.request(oauth_client)
            form = req.token_form(flow.code(req))
        response = flow.token(oauth_client, form)
        assert response.status_code == 200, (grant, response.get_json())


def _registered(app, method: str, alg: str = "RS256"):
    """A first-party client authenticating with `method` (and its key for private_key_jwt)."""
    key = make_key(alg) if method == "private_key_jwt" else None
    options = {"auth_method": method, "is_first_party": True}
    if method == "none":
        options["is_public"] = True
    if key is not None:
        options["jwks"] = {"keys": [key.as_dict(private=False)]}
    return add_client(app, **options), key


def _auth_pieces(registered, method, key, path):
    """(form, headers) that authenticate `registered` with `method` at `path`."""
    form, headers = {}, {}
    if method == "client_secret_basic":
        headers = basic_auth(registered["client_id"], registered["client_secret"])
    elif method == "client_secret_post":
        form.update(client_id=registered["client_id"], client_secret=registered["client_secret"])
    elif method == "none":
        form["client_id"] = registered["client_id"]
    else:
        form.update(client_assertion_type=ASSERTION_TYPE,
                    client_assertion=assertion(registered["client_id"], key, aud=ISSUER + path))
    return form, headers


def _code_flow(flow, client, registered, method, key):
    req = flow.request(registered)
    form, headers = _auth_pieces(registered, method, key, "/oauth2/token")
    form.update(req.token_form(flow.code(req)))
    return client.post("/oauth2/token", data=form, headers=headers)


def test_token_endpoint_auth_methods(flow, client, app, metadata):
    for method in metadata["token_endpoint_auth_methods_supported"]:
        registered, key = _registered(app, method)
        response = _code_flow(flow, client, registered, method, key)
        assert response.status_code == 200, (method, response.get_json())


def test_token_endpoint_auth_signing_algs(client, app, metadata):
    for alg in metadata["token_endpoint_auth_signing_alg_values_supported"]:
        key = make_key(alg)
        registered = add_client(app, auth_method="private_key_jwt", redirect_uris=[],
                                grant_types=["client_credentials"], scopes=["api"],
                                jwks={"keys": [key.as_dict(private=False)]})
        response = client.post("/oauth2/token", data={
            "grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion(registered["client_id"], key, alg)})
        assert response.status_code == 200, (alg, response.get_json())


@pytest.mark.parametrize("endpoint", ["revocation", "introspection"])
def test_revocation_and_introspection_auth_methods(flow, client, app, metadata, endpoint):
    path = {"revocation": "/oauth2/revoke", "introspection": "/oauth2/introspect"}[endpoint]
    for method in metadata[f"{endpoint}_endpoint_auth_methods_supported"]:
        registered, key = _registered(app, method)
        tokens = _code_flow(flow, client, registered, method, key).get_json()
        form, headers = _auth_pieces(registered, method, key, path)
        form["token"] = tokens["access_token"]
        response = client.post(path, data=form, headers=headers)
        assert response.status_code == 200, (endpoint, method, response.get_json())
        if endpoint == "introspection":
            assert response.get_json()["active"] is True


def test_id_token_signing_algs(flow, client, app, metadata):
    for alg in metadata["id_token_signing_alg_values_supported"]:
        registered = add_client(app, is_first_party=True, id_token_signed_response_alg=alg)
        tokens = flow.tokens(registered)
        assert verify_jwt(client, tokens["id_token"])[0]["alg"] == alg


def test_scopes(flow, oauth_client, metadata):
    scope = " ".join(metadata["scopes_supported"])
    tokens = flow.tokens(oauth_client, flow.request(oauth_client, scope=scope))
    assert tokens["scope"].split() == metadata["scopes_supported"]


def test_prompt_values(flow, client, app, metadata):
    third = add_client(app, name="Third")
    flow.sign_in()
    for prompt in metadata["prompt_values_supported"]:
        response = client.get(flow.request(third).url(prompt=prompt))
        expected = {"none": "error=consent_required", "login": "/login?",
                    "select_account": "/login?", "consent": "/consent?"}[prompt]
        assert expected in response.location, (prompt, response.location)


def test_code_challenge_methods(flow, public_client, metadata):
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert flow.tokens(public_client)["access_token"]


def test_every_supported_claim_is_issued(app, client, metadata):
    attributes = {name: "x" for name in (
        "name", "family_name", "given_name", "middle_name", "nickname", "preferred_username",
        "profile", "picture", "website", "gender", "birthdate", "zoneinfo", "locale",
        "phone_number")}
    attributes.update(phone_number_verified=True, address={"country": "FR"})
    user = add_user(app, email="full@example.com", attributes=attributes, groups=["staff"])
    flow = Flow(app, client, user)
    registered = add_client(app, is_first_party=True)
    req = flow.request(registered, scope="openid profile email phone address")
    response = client.get(req.url())
    back = flow.login_at(response, amr="pwd", acr="urn:frontdesk:pwd")
    tokens = flow.token(registered, req.token_form(redirect_params(back)["code"])).get_json()
    seen = set(verify_jwt(client, tokens["id_token"])[1])
    seen |= set(client.get("/oauth2/userinfo", headers={
        "Authorization": "Bearer " + tokens["access_token"]}).get_json())
    assert set(metadata["claims_supported"]) <= seen, set(metadata["claims_supported"]) - seen


def test_subject_is_public(flow, app, oauth_client, client):
    other = add_client(app, is_first_party=True)
    first = verify_jwt(client, flow.tokens(oauth_client)["id_token"])[1]["sub"]
    second = verify_jwt(client, flow.tokens(other)["id_token"])[1]["sub"]
    assert first == second


def test_request_objects_are_refused_as_advertised(client, oauth_client, metadata):
    assert metadata["request_parameter_supported"] is False
    req = AuthorizationRequest(oauth_client["client_id"], oauth_client["redirect_uri"])
    response = client.get(req.url(request="e30.e30."))
    assert redirect_params(response)["error"] == "request_not_supported"
