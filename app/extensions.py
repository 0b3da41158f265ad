"""Unbound extension objects; create_app() binds them. Per-app state lives in
`app.extensions["frontdesk"]` (see `frontdesk_state`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2.rfc6749 import InvalidClientError, InvalidRequestError
from flask import Flask, Response, current_app
from flask import request as flask_request
from flask_babel import Babel
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

if TYPE_CHECKING:
    from app.config import Settings

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)
csrf = CSRFProtect()
babel = Babel()


class FrontdeskAuthorizationServer(AuthorizationServer):
    """Authlib's Flask server, finished through its framework hooks: every answer it builds
    is one Response with its final headers, so the views return it unchanged."""

    def create_oauth2_request(self, request):
        """RFC 6749 §3.2: request parameters MUST NOT be included more than once (Authlib
        checks this at the authorization endpoint only)."""
        oauth2_request = super().create_oauth2_request(request)
        for name, values in oauth2_request.payload.datalist.items():
            if len(values) > 1:
                raise InvalidRequestError(f"The request repeats the '{name}' parameter.")
        return oauth2_request

    def handle_response(self, status_code, payload, headers):
        """The one Response of a protocol answer: compact JSON, never stored by caches
        (RFC 6749 §5.1, RFC 7662 §2.2)."""
        if isinstance(payload, dict):
            payload = json.dumps(payload, separators=(",", ":"))
        response = Response(payload, status=status_code, headers=headers)
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
        return response

    def handle_error_response(self, request, error):
        """invalid_client answers 401 with a Basic challenge when the client sent HTTP Basic
        credentials, else 400 without one (RFC 6749 §5.2), whatever status Authlib chose."""
        if error.error != InvalidClientError.error:
            return super().handle_error_response(request, error)
        used_basic = flask_request.headers.get("Authorization", "")[:6].lower() == "basic "
        error.status_code = 401 if used_basic else 400
        response = super().handle_error_response(request, error)
        response.headers.pop("WWW-Authenticate", None)
        if used_basic:
            response.headers["WWW-Authenticate"] = (
                f'Basic realm="{settings().issuer}", error="invalid_client"')
        return response

    def authenticate_client(self, request, methods, endpoint="token"):
        """Authlib's refusal of a wrong secret lists the server's methods ("cannot
        authenticate with methods: [...]"), which reads as if they were all the client's;
        say what failed instead, and nothing about which method the client is registered for."""
        try:
            return super().authenticate_client(request, methods, endpoint)
        except InvalidClientError as error:
            if (error.description or "").startswith("The client cannot authenticate with"):
                error.description = CLIENT_AUTHENTICATION_FAILED
            raise


CLIENT_AUTHENTICATION_FAILED = ("Client authentication failed: wrong client secret or "
                                "assertion, or an authentication method this client is not "
                                "registered for.")


authorization = FrontdeskAuthorizationServer()
require_oauth = ResourceProtector()


@dataclass
class FrontdeskState:
    """Everything one app instance owns besides Flask's own config."""

    settings: Settings
    store: Any = None  # app.store.Store
    keyring: Any = None  # app.keys.KeyRing
    mailer: Any = None  # app.mail.Mailer
    triggers: Any = None  # app.triggers.TriggerRegistry
    extras: dict[str, Any] = field(default_factory=dict)


def frontdesk_state(app: Flask | None = None) -> FrontdeskState:
    return (app or current_app).extensions["frontdesk"]


def settings(app: Flask | None = None) -> Settings:
    return frontdesk_state(app).settings
