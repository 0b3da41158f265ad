"""The interaction boundary (app/oauth/interaction.py, app/oauth/parked.py): parked requests
bound to a browser."""

from __future__ import annotations

from flask import session

from app.oauth.interaction import (
    ConsentResult,
    Denial,
    LoginResult,
    abort,
    conclude,
    finish,
    load_interaction,
)
from app.oauth.parked import discard_interaction, park_interaction, resume_url


def _park():
    return park_interaction(client_id="c", client_name="C", client_logo_url=None,
                            scopes=["openid"], stage="login", params={"client_id": "c"},
                            login_hint="a@example.com", max_age=60)


def test_park_finish_abort(app):
    with app.test_request_context():
        ix = _park()
        assert load_interaction(ix.id).login_hint == "a@example.com"
        url = finish(ix.id, LoginResult(sub="u", amr=["pwd"], auth_time=1))
        assert url == resume_url(ix.id) == f"/oauth2/authorize/resume/{ix.id}"
        assert load_interaction(ix.id).login == {"sub": "u", "amr": ["pwd"], "auth_time": 1,
                                                 "acr": None}
        finish(ix.id, ConsentResult(scopes=["openid"]))
        assert load_interaction(ix.id).consent == {"scopes": ["openid"]}
        abort(ix.id, "access_denied", "no")
        assert load_interaction(ix.id).error == {"error": "access_denied",
                                                 "error_description": "no"}
        discard_interaction(ix.id)
        assert load_interaction(ix.id) is None
        assert finish(ix.id, ConsentResult(scopes=[])) is None
        assert abort(ix.id) is None


def test_interaction_is_bound_to_the_browser(app):
    with app.test_request_context():
        ix = _park()
        session.clear()  # another browser: another binding key
        assert load_interaction(ix.id) is None
        assert load_interaction(None) is None and load_interaction("x" * 100) is None


def test_conclude_answers_like_the_resume_and_saves_nothing_itself(app):
    with app.test_request_context():
        ix = _park()  # client "c" is not registered: the resume's error page
        response = conclude(ix.id, LoginResult(sub="u", amr=["pwd"], auth_time=1))
        assert response.status_code == 400 and "not registered" in response.get_data(True)
        assert load_interaction(ix.id).login is None  # the outcome was not stored
        assert conclude(ix.id, Denial()).status_code == 400
        discard_interaction(ix.id)
        assert conclude(ix.id, ConsentResult(scopes=[])) is None
        assert conclude("x" * 100, Denial()) is None
