"""Provider settings: what configures Google, Apple and generic upstreams, and what stops
the start with a message naming the variable."""

from __future__ import annotations

import json

import pytest

from app.config import ConfigError, load_settings
from app.federation.providers import load_providers
from tests.federation.apple_upstream import CLIENT_ID, KEY_ID, TEAM_ID


def _settings(tmp_path, **env):
    environ = {"FRONTDESK_INSTANCE_PATH": str(tmp_path / "instance"),
               "FRONTDESK_SECRET_KEY": "k" * 40}
    environ.update({f"FRONTDESK_{k.upper()}": v for k, v in env.items()})
    return load_settings(environ=environ)


def _generic(**overrides):
    entry = {"name": "acme", "discovery_url": "https://id.acme.test/.well-known/openid-configuration",
             "client_id": "fd", "client_secret": "s3cret"}
    entry.update(overrides)
    return entry


def test_nothing_configured_means_no_providers(tmp_path):
    assert load_providers(_settings(tmp_path)) == {}


def test_google_defaults(tmp_path):
    providers = load_providers(_settings(tmp_path, google_client_id="g-id",
                                         google_client_secret="g-secret"))
    google = providers["google"]
    assert google.label == "Google"
    assert google.trust_email is True
    assert google.scopes == ("openid", "email", "profile")
    assert google.discovery_url == "https://accounts.google.com/.well-known/openid-configuration"
    assert google.attribute_mapping["name"] == "name"
    assert not google.uses_form_post


def test_google_overrides(tmp_path):
    google = load_providers(_settings(
        tmp_path, google_client_id="g", google_client_secret="s", google_trust_email="false",
        google_discovery_url="http://127.0.0.1:9/.well-known/openid-configuration",
        google_scopes="email", google_attribute_mapping='{"hd": "company"}',
        google_update_attributes_on_login="true"))["google"]
    assert google.trust_email is False
    assert google.scopes == ("openid", "email")
    assert google.attribute_mapping == {"hd": "company"}
    assert google.update_attributes_on_login is True


def test_apple_from_team_key_and_p8(tmp_path, apple_key):
    apple = load_providers(_settings(
        tmp_path, apple_client_id=CLIENT_ID, apple_team_id=TEAM_ID, apple_key_id=KEY_ID,
        apple_private_key_path=str(apple_key[1])))["apple"]
    assert apple.label == "Apple"
    assert apple.uses_form_post
    assert apple.token_endpoint_auth_method == "client_secret_post"
    assert apple.trust_email is True
    assert apple.scopes == ("name", "email")
    assert apple.issuer == "https://appleid.apple.com"
    assert apple.current_client_secret().count(".") == 2


def test_generic_upstreams_in_order_with_defaults(tmp_path):
    raw = json.dumps([_generic(), _generic(name="corp", label="Corp SSO",
                                           trust_email=True, scopes=["email"],
                                           attribute_mapping={"dept": "department"},
                                           update_attributes_on_login=True)])
    providers = load_providers(_settings(tmp_path, oidc_providers=raw))
    assert list(providers) == ["acme", "corp"]
    acme, corp = providers["acme"], providers["corp"]
    assert acme.trust_email is False  # generic upstreams are not trusted for e-mail by default
    assert acme.label == "Acme"
    assert acme.scopes == ("openid", "email", "profile")
    assert corp.label == "Corp SSO"
    assert corp.scopes == ("openid", "email")
    assert corp.attribute_mapping == {"dept": "department"}
    assert corp.trust_email and corp.update_attributes_on_login


@pytest.mark.parametrize("env, message", [
    ({"google_client_id": "g"}, "GOOGLE_CLIENT_SECRET"),
    ({"google_client_id": "g", "google_client_secret": "s", "google_discovery_url": "ftp://x"},
     "GOOGLE_DISCOVERY_URL"),
    ({"google_client_id": "g", "google_client_secret": "s",
      "google_attribute_mapping": "{bad"}, "GOOGLE_ATTRIBUTE_MAPPING"),
    ({"google_client_id": "g", "google_client_secret": "s",
      "google_attribute_mapping": '{"email": "email"}'}, "cannot be mapped"),
    ({"apple_client_id": "a"}, "APPLE_TEAM_ID"),
    ({"apple_client_id": "a", "apple_team_id": "t", "apple_key_id": "k",
      "apple_private_key_path": "/nonexistent.p8"}, "APPLE_PRIVATE_KEY_PATH"),
    ({"oidc_providers": "{"}, "OIDC_PROVIDERS is not valid JSON"),
    ({"oidc_providers": '{"name": "x"}'}, "JSON list of objects"),
    ({"oidc_providers": json.dumps([_generic(name="Bad Name")])}, "name must be"),
    ({"oidc_providers": json.dumps([_generic(name="google")])}, "name must be"),
    ({"oidc_providers": json.dumps([_generic(), _generic()])}, "used twice"),
    ({"oidc_providers": json.dumps([_generic(client_secret="")])}, "client_secret is required"),
    ({"oidc_providers": json.dumps([_generic(colour="red")])}, "unknown keys colour"),
    ({"oidc_providers": json.dumps([_generic(trust_email="yes")])}, "trust_email must be"),
    ({"oidc_providers": json.dumps([_generic(scopes=7)])}, "scopes"),
    ({"oidc_providers": json.dumps([_generic(token_endpoint_auth_method="none")])},
     "token_endpoint_auth_method"),
])
def test_malformed_settings_stop_the_start(tmp_path, env, message):
    with pytest.raises(ConfigError, match=message):
        load_providers(_settings(tmp_path, **env))


def test_production_requires_https_upstreams(tmp_path):
    settings = _settings(tmp_path, env="production", issuer="https://login.example.com",
                         database_url="sqlite:///x.db", oidc_providers=json.dumps([_generic(
                             discovery_url="http://id.acme.test/.well-known/x")]))
    with pytest.raises(ConfigError, match="https in production"):
        load_providers(settings)


def test_bad_provider_setting_stops_create_app(tmp_path):
    from app import create_app

    with pytest.raises(ConfigError, match="GOOGLE_CLIENT_SECRET"):
        create_app({"instance_path": str(tmp_path / "i"), "google_client_id": "g"})
