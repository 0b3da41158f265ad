"""User claims by scope and the groups claim (app/oauth/claims.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from app.models import Group, User
from app.oauth.claims import group_names, user_claims


def _user(**attributes) -> User:
    user = User(id="0b6c0c9e-1111-4f5e-9f0e-000000000001", email="eve@example.com",
                email_verified=False, attributes=attributes,
                updated_at=datetime(2024, 1, 2, tzinfo=UTC))
    user.groups = [Group(name="staff", precedence=5), Group(name="admins", precedence=1),
                   Group(name="beta", precedence=5)]
    return user


def test_openid_only_gives_sub_and_groups():
    claims = user_claims(_user(name="Eve"), ["openid"], "groups")
    assert claims == {"sub": "0b6c0c9e-1111-4f5e-9f0e-000000000001",
                      "groups": ["admins", "beta", "staff"]}


def test_profile_email_phone_address():
    user = _user(name="Eve Example", given_name="Eve", locale="fr", nickname="",
                 phone_number="+33100000000", phone_number_verified=True,
                 address={"country": "FR"}, favourite="tea")
    claims = user_claims(user, ["openid", "profile", "email", "phone", "address"], "groups")
    assert claims["name"] == "Eve Example" and claims["given_name"] == "Eve"
    assert claims["locale"] == "fr" and "nickname" not in claims  # empty values left out
    assert claims["updated_at"] == int(datetime(2024, 1, 2, tzinfo=UTC).timestamp())
    assert claims["email"] == "eve@example.com" and claims["email_verified"] is False
    assert claims["phone_number"] == "+33100000000" and claims["phone_number_verified"] is True
    assert claims["address"] == {"country": "FR"}
    assert "favourite" not in claims  # custom attributes are the claims hook's business


def test_address_as_text_becomes_formatted():
    claims = user_claims(_user(address="1 Main St"), ["address"], "groups")
    assert claims["address"] == {"formatted": "1 Main St"}


def test_groups_claim_name_and_empty_groups():
    user = _user()
    assert "cognito:groups" in user_claims(user, ["openid"], "cognito:groups")
    user.groups = []
    assert "groups" not in user_claims(user, ["openid"], "groups")


def test_group_order_is_precedence_then_name():
    assert group_names(_user()) == ["admins", "beta", "staff"]


def test_groups_claim_setting_reaches_tokens(app_with):
    from tests.oauth.conftest import Flow, add_client, add_user
    from tests.oauth.helpers import verify_jwt

    app = app_with(groups_claim="roles")
    flow = Flow(app, app.test_client(), add_user(app, groups=["editors", "readers"]))
    tokens = flow.tokens(add_client(app, is_first_party=True))
    assert verify_jwt(flow.client, tokens["id_token"])[1]["roles"] == ["editors", "readers"]
    assert verify_jwt(flow.client, tokens["access_token"])[1]["roles"] == ["editors", "readers"]
