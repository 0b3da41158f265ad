"""Building responses (app/oauth/responses.py)."""

from __future__ import annotations

from authlib.oauth2.rfc6749 import InvalidRequestError

from app.oauth.responses import error_redirect, page_error


def test_error_redirect_carries_state_and_iss(app):
    with app.test_request_context():
        response = error_redirect("https://c.example/cb?keep=1", "query",
                                  InvalidRequestError("Bad thing."), "s")
    assert response.status_code == 302
    assert response.location == ("https://c.example/cb?keep=1&error=invalid_request"
                                 "&error_description=Bad+thing.&state=s"
                                 "&iss=http%3A%2F%2F127.0.0.1%3A5000")


def test_post_requests_get_303(app):
    with app.test_request_context(method="POST"):
        response = error_redirect("https://c.example/cb", "query", InvalidRequestError(), None)
    assert response.status_code == 303


def test_page_error_is_a_page(app):
    with app.test_request_context():
        response = page_error(400, "invalid_client", "Unknown <app>")
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert "Unknown &lt;app&gt;" in response.get_data(as_text=True)
    assert response.headers["X-Frame-Options"] == "DENY"


