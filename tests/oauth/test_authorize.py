"""The authorization endpoint (app/oauth/authorize.py)."""

from __future__ import annotations

from tests.oauth.helpers import redirect_params


def test_code_flow_smoke(flow, oauth_client):
    tokens = flow.tokens(oauth_client)
    assert tokens["token_type"] == "Bearer"
    assert "id_token" in tokens and "refresh_token" in tokens
