"""Remembered consent (app/oauth/consent.py)."""

from __future__ import annotations

from app.oauth.consent import consent_covers, find_consent, remember_consent


def test_consent_is_remembered_and_grows(app, user, oauth_client):
    client_id = oauth_client["client_id"]
    with app.app_context():
        assert not consent_covers(user["id"], client_id, ["openid"])
        remember_consent(user["id"], client_id, ["openid", "email"])
        assert consent_covers(user["id"], client_id, ["email", "openid"])
        assert not consent_covers(user["id"], client_id, ["openid", "phone"])
        remember_consent(user["id"], client_id, ["phone"])
        assert consent_covers(user["id"], client_id, ["openid", "phone", "email"])
        assert find_consent(user["id"], client_id).scope == "email openid phone"
