"""The authorization endpoint (app/oauth/authorize.py): validation, error pages and error
redirects, response modes, prompt / max_age / hints, consent, the interaction boundary."""

from __future__ import annotations

import re
import time

import pytest

from tests.oauth.conftest import add_client
from tests.oauth.helpers import (
    AuthorizationRequest,
    assert_error_page,
    assert_redirect_error,
    interaction_id,
    redirect_params,
    verify_jwt,
)


def _interaction(client, response) -> dict:
    shown = client.get(f"/_harness/interaction/{interaction_id(response)}")
    assert shown.status_code == 200
    return shown.get_json()


def test_not_signed_in_goes_to_hosted_login_then_gets_a_code(flow, client, oauth_client):
    req = flow.request(oauth_client)
    response = client.get(req.url(login_hint="alice@example.com", ui_locales="fr en",
                                  unknown_param="ignored"))
    assert response.status_code == 303
    assert response.location.startswith("/login?interaction=")
    ix = _interaction(client, response)
    assert ix["stage"] == "login" and ix["client_id"] == oauth_client["client_id"]
    assert ix["client_name"] == "Test App"
    assert ix["login_hint"] == "alice@example.com" and ix["ui_locales"] == ["fr", "en"]
    assert ix["scopes"] == ["openid", "profile", "email"]
    back = flow.login_at(response)
    assert back.status_code == 302
    assert back.location.startswith(oauth_client["redirect_uri"] + "?")
    params = redirect_params(back)
    assert set(params) == {"code", "state", "iss"}
    assert params["state"] == req.state and params["iss"] == "http://127.0.0.1:5000"


def test_signed_in_browser_gets_a_code_directly(flow, client, oauth_client):
    flow.sign_in()
    response = client.get(flow.request(oauth_client).url())
    assert response.status_code == 302 and "code=" in response.location


def test_authorization_request_by_post_needs_no_csrf_token(flow, client, oauth_client):
    flow.sign_in()
    req = flow.request(oauth_client)
    response = client.post("/oauth2/authorize", data=req.params())
    assert response.status_code == 303
    assert redirect_params(response)["state"] == req.state


@pytest.mark.parametrize("change", [
    {"client_id": "nope"},
    {"client_id": None},
    {"redirect_uri": None},
    {"redirect_uri": "https://evil.example/cb"},
    {"redirect_uri": "http://127.0.0.1:9999/cb/extra"},
    {"redirect_uri": "http://127.0.0.1:9999/cb?x=1"},
    {"redirect_uri": "http://127.0.0.1:9998/cb"},  # port change for a confidential client
])
def test_unknown_client_or_redirect_uri_is_an_error_page(client, oauth_client, change):
    req = AuthorizationRequest(oauth_client["client_id"], oauth_client["redirect_uri"])
    assert_error_page(client.get(req.url(**change)))


def test_repeated_client_id_is_an_error_page(client, oauth_client):
    req = AuthorizationRequest(oauth_client["client_id"], oauth_client["redirect_uri"])
    assert_error_page(client.get(req.url() + "&client_id=" + oauth_client["client_id"]))


@pytest.mark.parametrize("change, error", [
    ({"response_type": "token"}, "unsupported_response_type"),
    ({"response_type": "id_token"}, "unsupported_response_type"),
    ({"response_type": "code id_token"}, "unsupported_response_type"),
    ({"response_type": None}, "invalid_request"),
    ({"response_mode": "fragment"}, "invalid_request"),
    ({"prompt": "none login"}, "invalid_request"),
    ({"max_age": "soon"}, "invalid_request"),
    ({"max_age": "-1"}, "invalid_request"),
    ({"max_age": "²"}, "invalid_request"),
    ({"request": "eyJhbGciOiJub25lIn0.e30."}, "request_not_supported"),
    ({"request_uri": "https://client.example/req"}, "request_uri_not_supported"),
    ({"id_token_hint": "not-a-token"}, "invalid_request"),
    ({"scope": "nothing-we-know"}, "invalid_scope"),
    ({"code_challenge_method": "plain"}, "invalid_request"),
    ({"code_challenge_method": None}, "invalid_request"),
    ({"code_challenge": "short"}, "invalid_request"),
])
def test_invalid_requests_go_back_to_the_client(client, oauth_client, change, error):
    req = AuthorizationRequest(oauth_client["client_id"], oauth_client["redirect_uri"])
    assert_redirect_error(client.get(req.url(**change)), req, error)


def test_repeated_scope_is_invalid_request(client, oauth_client):
    req = AuthorizationRequest(oauth_client["client_id"], oauth_client["redirect_uri"])
    assert_redirect_error(client.get(req.url() + "&scope=openid"), req, "invalid_request")


def test_client_without_code_grant_is_unauthorized(client, app):
    machine = add_client(app, name="M2M", grant_types=["client_credentials"],
                         redirect_uris=["https://m2m.example/cb"])
    req = AuthorizationRequest(machine["client_id"], machine["redirect_uri"])
    assert_redirect_error(client.get(req.url()), req, "unauthorized_client")


def test_unknown_scopes_are_dropped(flow, oauth_client):
    req = flow.request(oauth_client, scope="openid email made-up")
    tokens = flow.tokens(oauth_client, req)
    assert tokens["scope"] == "openid email"


def test_form_post_response_mode(flow, client, oauth_client):
    flow.sign_in()
    req = flow.request(oauth_client)
    response = client.get(req.url(response_mode="form_post"))
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert f'action="{oauth_client["redirect_uri"]}"' in html
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', html))
    assert set(fields) == {"code", "state", "iss"} and fields["state"] == req.state
    csp = response.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    assert f'<script nonce="{nonce}">' in html
    assert "form-action http://127.0.0.1:9999" in csp and "default-src 'none'" in csp
    assert re.search(r'<button[^>]*type="submit"', html)  # works without JavaScript
    assert response.headers["Cache-Control"] == "no-store"


def test_form_post_errors_are_posted_too(client, oauth_client):
    req = AuthorizationRequest(oauth_client["client_id"], oauth_client["redirect_uri"])
    response = client.get(req.url(response_mode="form_post", prompt="none"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'name="error" value="login_required"' in html and f'value="{req.state}"' in html


def test_prompt_none_without_session_is_login_required(client, oauth_client):
    req = AuthorizationRequest(oauth_client["client_id"], oauth_client["redirect_uri"])
    assert_redirect_error(client.get(req.url(prompt="none")), req, "login_required")


def test_prompt_none_with_session_returns_a_code(flow, client, oauth_client):
    flow.sign_in()
    response = client.get(flow.request(oauth_client).url(prompt="none"))
    assert response.status_code == 302 and "code" in redirect_params(response)


def test_prompt_none_when_consent_is_needed_is_consent_required(flow, client,
                                                                 third_party_client):
    flow.sign_in()
    req = flow.request(third_party_client)
    assert_redirect_error(client.get(req.url(prompt="none")), req, "consent_required")


@pytest.mark.parametrize("prompt", ["login", "select_account"])
def test_prompt_login_reauthenticates(flow, client, oauth_client, prompt):
    flow.sign_in(auth_time=int(time.time()) - 3600)
    req = flow.request(oauth_client)
    response = client.get(req.url(prompt=prompt))
    assert response.status_code == 303 and "/login?" in response.location
    back = flow.login_at(response, amr="pwd otp")
    code = redirect_params(back)["code"]
    tokens = flow.token(oauth_client, req.token_form(code)).get_json()
    _, claims = verify_jwt(client, tokens["id_token"])
    assert claims["auth_time"] >= time.time() - 60
    assert claims["amr"] == ["pwd", "otp"]


def test_max_age_exceeded_asks_to_log_in_again(flow, client, oauth_client):
    flow.sign_in(auth_time=int(time.time()) - 7200)
    req = flow.request(oauth_client)
    response = client.get(req.url(max_age="600"))
    assert response.status_code == 303 and "/login?" in response.location
    assert _interaction(client, response)["max_age"] == 600
    back = flow.login_at(response)
    tokens = flow.token(oauth_client, req.token_form(redirect_params(back)["code"])).get_json()
    assert verify_jwt(client, tokens["id_token"])[1]["auth_time"] >= time.time() - 60


def test_max_age_satisfied_keeps_the_original_auth_time(flow, client, oauth_client):
    then = int(time.time()) - 1800
    flow.sign_in(auth_time=then)
    req = flow.request(oauth_client)
    tokens = flow.tokens(oauth_client, req, max_age="3600")
    assert verify_jwt(client, tokens["id_token"])[1]["auth_time"] == then


def test_max_age_with_prompt_none_is_login_required(flow, client, oauth_client):
    flow.sign_in(auth_time=int(time.time()) - 7200)
    req = flow.request(oauth_client)
    assert_redirect_error(client.get(req.url(max_age="60", prompt="none")), req,
                          "login_required")


def test_id_token_hint_for_another_user_needs_login(flow, client, oauth_client, app):
    first = flow.tokens(oauth_client)
    with app.app_context():
        from app.accounts.users import create_user
        from app.extensions import db, frontdesk_state

        other = create_user(frontdesk_state().settings, email="bob@example.com",
                            password="another long password", verified=True)
        db.session.commit()
        other_id = other.id
    client.post("/_harness/signin", data={"user_id": other_id})
    req = flow.request(oauth_client)
    assert_redirect_error(client.get(req.url(prompt="none", id_token_hint=first["id_token"])),
                          req, "login_required")
    flow.sign_in()
    response = client.get(req.url(prompt="none", id_token_hint=first["id_token"]))
    assert "code" in redirect_params(response)


def test_disabled_user_must_log_in_again(flow, client, oauth_client, app, user):
    flow.sign_in()
    with app.app_context():
        from app.extensions import db
        from app.models import User

        db.session.get(User, user["id"]).status = "disabled"
        db.session.commit()
    req = flow.request(oauth_client)
    assert_redirect_error(client.get(req.url(prompt="none")), req, "login_required")


# --- consent ------------------------------------------------------------------------------


def test_third_party_client_asks_consent_once(flow, client, third_party_client):
    req = flow.request(third_party_client)
    response = flow.login_at(client.get(req.url()))
    assert response.status_code == 303 and response.location.startswith("/consent?")
    ix = _interaction(client, response)
    assert ix["stage"] == "consent" and ix["scopes"] == ["openid", "profile", "email"]
    back = flow.consent_at(response)
    assert back.status_code == 302 and "code" in redirect_params(back)
    again = client.get(flow.request(third_party_client).url())
    assert again.status_code == 302 and "code" in redirect_params(again)
    wider = client.get(flow.request(third_party_client, scope="openid phone").url())
    assert wider.status_code == 303 and wider.location.startswith("/consent?")
    forced = client.get(flow.request(third_party_client).url(prompt="consent"))
    assert forced.status_code == 303 and forced.location.startswith("/consent?")


def test_consent_denied_is_access_denied(flow, client, third_party_client):
    req = flow.request(third_party_client)
    response = flow.login_at(client.get(req.url()))
    assert_redirect_error(flow.consent_at(response, decision="deny"), req, "access_denied")


def test_partial_consent_narrows_the_scope(flow, client, third_party_client):
    req = flow.request(third_party_client, scope="openid email phone")
    response = flow.login_at(client.get(req.url()))
    back = flow.consent_at(response, scopes=["openid", "email"])
    code = redirect_params(back)["code"]
    tokens = flow.token(third_party_client, req.token_form(code)).get_json()
    assert tokens["scope"] == "openid email"


def test_first_party_client_skips_consent(flow, client, oauth_client):
    flow.sign_in()
    response = client.get(flow.request(oauth_client).url())
    assert response.status_code == 302


# --- the interaction boundary ------------------------------------------------------------


def test_resume_of_unknown_interaction_is_an_error_page(client):
    assert_error_page(client.get("/oauth2/authorize/resume/does-not-exist"))


def test_interaction_belongs_to_its_browser(app, flow, client, oauth_client):
    response = client.get(flow.request(oauth_client).url())
    other_browser = app.test_client()
    assert_error_page(other_browser.get(f"/oauth2/authorize/resume/{interaction_id(response)}"))


def test_resume_without_login_goes_back_to_login(flow, client, oauth_client):
    response = client.get(flow.request(oauth_client).url())
    again = client.get(f"/oauth2/authorize/resume/{interaction_id(response)}")
    assert again.status_code == 303 and again.location.startswith("/login?")


def test_abort_from_a_hosted_page_reaches_the_client(flow, client, oauth_client):
    req = flow.request(oauth_client)
    response = client.get(req.url())
    back = client.post("/_harness/abort", data={"interaction": interaction_id(response),
                                                "error": "temporarily_unavailable",
                                                "description": "Try again later"})
    params = assert_redirect_error(client.get(back.location), req, "temporarily_unavailable")
    assert params["error_description"] == "Try again later"
    # the interaction is over
    assert_error_page(client.get(back.location))


def test_abort_with_an_unknown_error_becomes_access_denied(flow, client, oauth_client):
    req = flow.request(oauth_client)
    response = client.get(req.url())
    back = client.post("/_harness/abort", data={"interaction": interaction_id(response),
                                                "error": "made_up"})
    assert_redirect_error(client.get(back.location), req, "access_denied")


def test_a_code_is_issued_once_per_interaction(flow, client, oauth_client):
    response = client.get(flow.request(oauth_client).url())
    back = flow.login_at(response)
    assert back.status_code == 302
    resume = f"/oauth2/authorize/resume/{interaction_id(response)}"
    assert_error_page(client.get(resume))


# --- public clients -----------------------------------------------------------------------


def test_public_client_needs_pkce(client, public_client):
    req = AuthorizationRequest(public_client["client_id"], public_client["redirect_uri"],
                               pkce=False)
    assert_redirect_error(client.get(req.url()), req, "invalid_request")


def test_public_native_client_may_use_any_loopback_port(flow, public_client):
    req = AuthorizationRequest(public_client["client_id"], "http://127.0.0.1:50123/cb")
    tokens = flow.tokens(public_client, req)
    assert tokens["access_token"]


def test_public_client_port_freedom_is_only_for_loopback(client, public_client):
    req = AuthorizationRequest(public_client["client_id"], "https://spa.example.com:8443/cb")
    assert_error_page(client.get(req.url()))


def test_confidential_client_without_pkce_is_fine(flow, oauth_client):
    req = flow.request(oauth_client, pkce=False)
    assert flow.tokens(oauth_client, req)["access_token"]


def test_plain_oauth_request_without_openid_has_no_id_token(flow, oauth_client):
    tokens = flow.tokens(oauth_client, flow.request(oauth_client, scope="email"))
    assert "id_token" not in tokens and tokens["scope"] == "email"


def test_form_post_needs_an_http_redirect_uri(client, app):
    native = add_client(app, name="Native", is_public=True,
                        redirect_uris=["com.example.app:/callback"])
    req = AuthorizationRequest(native["client_id"], native["redirect_uri"])
    response = client.get(req.url(response_mode="form_post"))
    assert response.status_code == 302
    assert response.location.startswith("com.example.app:/callback?error=invalid_request")
