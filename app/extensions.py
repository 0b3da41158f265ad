"""Unbound extension objects; create_app() binds them. Per-app state lives in
`app.extensions["frontdesk"]` (see `frontdesk_state`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2.rfc6749 import InvalidClientError, OAuth2Request
from flask import Flask, current_app
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
    """Also takes a ready OAuth2Request (app.oauth.fastlane builds one from WSGI)."""

    def create_oauth2_request(self, request):
        if isinstance(request, OAuth2Request):
            return request
        return super().create_oauth2_request(request)

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
