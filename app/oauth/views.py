"""The `oauth` blueprint: thin views over Authlib and app.oauth modules.

Other parts and templates rely on the endpoint names: oauth.authorize,
oauth.authorize_resume, oauth.token, oauth.userinfo, oauth.revoke, oauth.introspect,
oauth.end_session, oauth.discovery, oauth.jwks.
"""

from __future__ import annotations

from authlib.oauth2 import OAuth2Error
from flask import Blueprint, Response, jsonify, render_template, request

from app.extensions import authorization
from app.oauth import authorize as authorize_flow
from app.oauth import logout
from app.oauth.cors import add_cors_headers
from app.oauth.discovery import discovery_response, jwks_response
from app.oauth.responses import no_store, page_error, protocol_page
from app.oauth.userinfo import userinfo_response

bp = Blueprint("oauth", __name__)
bp.after_request(add_cors_headers)


@bp.route("/oauth2/authorize", methods=["GET", "POST"])
def authorize():
    """RFC 6749 §3.1 / OIDC Core §3.1.2.1: GET, or POST with a form body."""
    values = request.form if request.method == "POST" else request.args
    return authorize_flow.answer(lambda: authorize_flow.start(values))


@bp.get("/oauth2/authorize/resume/<interaction_id>")
def authorize_resume(interaction_id: str):
    """Back from a hosted page (app.oauth.interaction.finish / abort)."""
    return authorize_flow.answer(lambda: authorize_flow.resume(interaction_id))


@bp.post("/oauth2/token")
def token():
    """RFC 6749 §3.2. The server's response hooks give the answer its final headers."""
    return authorization.create_token_response()


@bp.route("/oauth2/userinfo", methods=["GET", "POST"])
def userinfo():
    """OIDC Core §5.3."""
    return userinfo_response()


@bp.post("/oauth2/revoke")
def revoke():
    """RFC 7009 §2."""
    return authorization.create_endpoint_response("revocation")


@bp.post("/oauth2/introspect")
def introspect():
    """RFC 7662 §2."""
    return authorization.create_endpoint_response("introspection")


@bp.route("/oauth2/logout", methods=["GET", "POST"])
def end_session():
    """OpenID Connect RP-Initiated Logout 1.0 §2."""
    try:
        validated = authorization.validate_endpoint_request("end_session")
    except OAuth2Error as exc:
        return page_error(400, exc.error, exc.get_error_description() or "Invalid request.")
    if logout.needs_confirmation(validated) and not logout.confirmed():
        client = validated.client
        return protocol_page(render_template(
            "oauth/logout_confirm.html", action=request.path,
            params=logout.confirmation_params(), client_name=client.name if client else None,
            site_name="Frontdesk"))
    response = authorization.create_endpoint_response("end_session", validated)
    return no_store(response) if response else \
        protocol_page(render_template("oauth/logged_out.html"))


@bp.get("/.well-known/openid-configuration")
def discovery():
    """OIDC Discovery §4."""
    return discovery_response()


@bp.get("/.well-known/jwks.json")
def jwks():
    """RFC 7517 §5."""
    return jwks_response()


def oauth_error(exc: OAuth2Error) -> Response:
    """An OAuth error escaping a JSON endpoint (e.g. insecure_transport: behind a TLS proxy,
    the app must see the original scheme)."""
    response = jsonify(error=exc.error, error_description=exc.get_error_description())
    response.status_code = exc.status_code if 400 <= (exc.status_code or 0) < 500 else 400
    return no_store(response)


bp.register_error_handler(OAuth2Error, oauth_error)
