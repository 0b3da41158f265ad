"""Linking rules on the database: find, auto-link only on a verified e-mail from a trusted
provider, otherwise ask for the password; create in one transaction; never unlink the last
way to sign in (the /account page, tested in test_flow_apple.py)."""

from __future__ import annotations

import pytest

from app.extensions import db, frontdesk_state
from app.federation.linking import (
    LinkError,
    UpstreamIdentity,
    find_identity,
    link_with_password,
    resolve_user,
)
from app.federation.providers import Provider
from app.models import AuditEvent, FederatedIdentity, User
from tests.conftest import PASSWORD

TRUSTED = Provider(name="google", kind="google", label="Continue with Google", client_id="g",
                   trust_email=True, attribute_mapping={"name": "name", "picture": "picture"})
UNTRUSTED = Provider(name="acme", kind="oidc", label="Continue with Acme", client_id="a",
                     trust_email=False, attribute_mapping={"name": "name"})


def _identity(provider=TRUSTED, sub="up-1", email="alice@example.com", verified=True, **claims):
    return UpstreamIdentity(provider=provider.name, subject=sub, email=email,
                            email_verified=verified,
                            claims={"sub": sub, "email": email, **claims})


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield frontdesk_state(app).settings


def _count(model):
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def _events(type_):
    return list(db.session.scalars(db.select(AuditEvent).where(AuditEvent.type == type_)))


def test_new_identity_creates_a_user_with_mapped_attributes(ctx):
    result = resolve_user(ctx, TRUSTED, _identity(name="Alice", picture="https://p/a.png",
                                                  locale="fr"))
    assert result.created and result.user is not None
    user = db.session.get(User, result.user.id)
    assert user.email == "alice@example.com" and user.email_verified
    assert user.password_hash is None
    assert user.attributes == {"name": "Alice", "picture": "https://p/a.png"}
    assert find_identity("google", "up-1").user_id == user.id
    assert len(_events("federation.signup")) == 1


def test_untrusted_provider_creates_an_unverified_user(ctx):
    result = resolve_user(ctx, UNTRUSTED, _identity(UNTRUSTED, verified=True))
    assert result.user.email_verified is False


def test_returning_identity_is_the_same_user(ctx):
    first = resolve_user(ctx, TRUSTED, _identity(name="Alice")).user.id
    again = resolve_user(ctx, TRUSTED, _identity(name="Renamed", email="new@example.com"))
    assert again.user.id == first and not again.created
    assert again.user.attributes["name"] == "Alice"  # no update on login by default
    assert find_identity("google", "up-1").email == "new@example.com"
    assert _count(User) == 1


def test_update_on_login_rewrites_mapped_attributes(ctx):
    provider = Provider(**{**TRUSTED.__dict__, "update_attributes_on_login": True})
    resolve_user(ctx, provider, _identity(name="Alice"))
    again = resolve_user(ctx, provider, _identity(name="Alice Renamed"))
    assert again.user.attributes["name"] == "Alice Renamed"


def test_verified_email_from_trusted_provider_links_the_existing_account(ctx, user):
    result = resolve_user(ctx, TRUSTED, _identity(email="Alice@EXAMPLE.com", name="Other"))
    assert result.user.id == user["id"] and not result.created
    assert find_identity("google", "up-1").user_id == user["id"]
    linked = db.session.get(User, user["id"])
    assert linked.attributes["name"] == "Alice Example"  # existing values are kept
    assert _events("federation.linked")[0].details["method"] == "verified_email"


@pytest.mark.parametrize("provider, verified", [
    (TRUSTED, False),  # the upstream does not vouch for the address
    (UNTRUSTED, True),  # the upstream vouches, but we do not trust it for e-mail
    (UNTRUSTED, False),
])
def test_otherwise_the_password_is_asked_and_nothing_is_linked(ctx, user, provider, verified):
    result = resolve_user(ctx, provider, _identity(provider, verified=verified))
    assert result.user is None
    assert result.link_candidate.id == user["id"]
    assert _count(FederatedIdentity) == 0
    assert _count(User) == 1


def test_password_links_once_proved(ctx, user):
    identity = _identity(UNTRUSTED, verified=False)
    assert link_with_password(ctx, UNTRUSTED, identity, user["id"], "wrong password") is None
    assert _count(FederatedIdentity) == 0
    assert len(_events("federation.link_failed")) == 1
    linked = link_with_password(ctx, UNTRUSTED, identity, user["id"], PASSWORD)
    assert linked.id == user["id"]
    assert find_identity("acme", "up-1").user_id == user["id"]
    assert resolve_user(ctx, UNTRUSTED, identity).user.id == user["id"]


@pytest.mark.parametrize("change, reason", [
    ({"email": None}, "no_email"),
])
def test_identity_without_email_creates_nothing(ctx, change, reason):
    with pytest.raises(LinkError) as caught:
        resolve_user(ctx, TRUSTED, _identity(**change))
    assert caught.value.reason == reason
    assert _count(User) == 0 and _count(FederatedIdentity) == 0


def test_disabled_accounts_cannot_sign_in(ctx, user):
    resolve_user(ctx, TRUSTED, _identity())
    db.session.get(User, user["id"]).status = "disabled"
    db.session.commit()
    with pytest.raises(LinkError, match="account_disabled"):
        resolve_user(ctx, TRUSTED, _identity())
    with pytest.raises(LinkError, match="account_disabled"):
        resolve_user(ctx, UNTRUSTED, _identity(UNTRUSTED, sub="other"))


def test_closed_signup_creates_nothing(tmp_path, postgres_schema):
    from tests.conftest import make_app

    app = make_app(tmp_path, postgres_schema, signup_enabled=False)
    with app.app_context():
        with pytest.raises(LinkError, match="signup_disabled"):
            resolve_user(frontdesk_state(app).settings, TRUSTED, _identity())
        assert _count(User) == 0
        db.session.remove()
        db.engine.dispose()


def test_subject_is_scoped_to_its_provider(ctx):
    a = resolve_user(ctx, TRUSTED, _identity(sub="same", email="a@example.com")).user.id
    b = resolve_user(ctx, UNTRUSTED, _identity(UNTRUSTED, sub="same", email="b@example.com"))
    assert b.user.id != a
