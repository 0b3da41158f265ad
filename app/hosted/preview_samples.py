"""Sample data for the theme preview: one entry per page and per mail."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l

from app.config import Settings
from app.hosted.federation_buttons import SAMPLE_BUTTONS
from app.hosted.forms import (
    ActionForm,
    ChangePasswordForm,
    ConfirmForm,
    ConsentForm,
    DisableMfaForm,
    ForgotForm,
    LoginForm,
    LogoutForm,
    MfaForm,
    MfaSetupForm,
    RecoveryCodesForm,
    ResendForm,
    ResetForm,
    signup_form_class,
)
from app.hosted.messages import GENERIC_LOGIN_ERROR, scope_description
from app.hosted.passkeys import PasskeyAddForm, PasskeyRenameForm
from app.hosted.qr import qr_svg
from app.mail import issuer_url
from app.models import Client

SAMPLE_EMAIL = "alice@example.com"
SAMPLE_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105 - a public sample
SAMPLE_CODES = ["abcde-fghjk", "mnpqr-stuvw", "xyz23-45678", "9abcd-efghj", "kmnpq-rstuv",
                "wxyz2-34567", "89abc-defgh", "jkmnp-qrstu", "vwxyz-23456", "789ab-cdefg"]


@dataclass(frozen=True)
class PageSample:
    title: object
    template: str
    build: Callable[[Client | None], dict]
    status: int = 200

    def context(self, client: Client | None) -> dict:
        return self.build(client)


def _login(client, error=None):
    return {"form": LoginForm(formdata=None, email=SAMPLE_EMAIL), "error": error,
            "signup_enabled": True,
            "providers": [dict(button) for button in SAMPLE_BUTTONS]}


def _signup(client):
    form = signup_form_class(["name"])(formdata=None)
    return {"form": form, "extra_fields": [form["name"]], "error": None}


def _mfa_setup(client):
    qr = qr_svg(f"otpauth://totp/Frontdesk:{SAMPLE_EMAIL}?secret={SAMPLE_SECRET}", "QR")
    return {"form": MfaSetupForm(formdata=None), "qr_svg": qr, "secret": SAMPLE_SECRET,
            "secret_grouped": " ".join(SAMPLE_SECRET[i:i + 4] for i in range(0, 32, 4)),
            "email": SAMPLE_EMAIL, "error": None}


def _consent(client):
    return {"form": ConsentForm(formdata=None), "email": SAMPLE_EMAIL,
            "client_name": client.name if client else "Example App",
            "client_logo_url": client.logo_url if client else None, "interaction_id": "",
            "scopes": [{"name": s, "text": scope_description(s)}
                       for s in ("openid", "profile", "email", "offline_access")]}


def _account(client):
    return {"account": {"email": SAMPLE_EMAIL, "name": "Alice Example", "email_verified": True,
                        "mfa_enabled": True, "has_password": True, "recovery_left": 8},
            "identities": [{"id": 1, "provider": "google", "email": SAMPLE_EMAIL}],
            "unlink_allowed": True, "mfa_policy": "optional",
            "password_form": ChangePasswordForm(formdata=None),
            "mfa_form": DisableMfaForm(formdata=None),
            "codes_form": RecoveryCodesForm(formdata=None), "action_form": ActionForm()}


def _passkeys(client):
    added = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    return {"passkeys": [{"id": 1, "name": "Work laptop", "created_at": added,
                          "last_used_at": datetime(2026, 12, 1, 8, 0, tzinfo=UTC),
                          "synced": False},
                         {"id": 2, "name": "Phone", "created_at": added, "last_used_at": None,
                          "synced": True}],
            "enabled": True, "may_add": True, "add_form": PasskeyAddForm(formdata=None),
            "rename_form": PasskeyRenameForm(formdata=None), "action_form": ActionForm()}


def _error(client):
    return {"status": 404, "error": "not_found",
            "description": "The requested URL was not found on the server."}


PAGES: dict[str, PageSample] = {
    "login": PageSample(_l("Sign in"), "hosted/login.html", _login),
    "login_error": PageSample(_l("Sign in (wrong password)"), "hosted/login.html",
                              lambda c: _login(c, GENERIC_LOGIN_ERROR)),
    "signup": PageSample(_l("Create account"), "hosted/signup.html", _signup),
    "signup_confirm": PageSample(_l("Confirm your e-mail"), "hosted/signup_confirm.html",
                                 lambda c: {"form": ConfirmForm(formdata=None),
                                            "resend": ResendForm(formdata=None), "error": None,
                                            "notice": None, "verify": False}),
    "signup_disabled": PageSample(_l("Sign-up disabled"), "hosted/signup_disabled.html",
                                  lambda c: {}, 403),
    "mfa": PageSample(_l("Two-step verification"), "hosted/mfa.html",
                      lambda c: {"form": MfaForm(formdata=None), "error": None,
                                 "email": SAMPLE_EMAIL}),
    "mfa_setup": PageSample(_l("Set up two-step verification"), "hosted/mfa_setup.html",
                            _mfa_setup),
    "recovery_codes": PageSample(_l("Recovery codes"), "hosted/recovery_codes.html",
                                 lambda c: {"codes": SAMPLE_CODES, "continue_url": "#",
                                            "first_time": True}),
    "password_forgot": PageSample(_l("Forgot password"), "hosted/password_forgot.html",
                                  lambda c: {"form": ForgotForm(formdata=None)}),
    "password_reset": PageSample(_l("Reset password"), "hosted/password_reset.html",
                                 lambda c: {"form": ResetForm(formdata=None), "error": None,
                                            "sent": True}),
    "consent": PageSample(_l("Allow access"), "hosted/consent.html", _consent),
    "logout": PageSample(_l("Sign out"), "hosted/logout.html",
                         lambda c: {"form": LogoutForm(formdata=None)}),
    "signed_out": PageSample(_l("Signed out"), "hosted/signed_out.html", lambda c: {}),
    "account": PageSample(_l("Your account"), "hosted/account.html", _account),
    "passkeys": PageSample(_l("Passkeys"), "hosted/passkeys.html", _passkeys),
    "expired": PageSample(_l("Request expired"), "hosted/expired.html", lambda c: {}, 400),
    "too_many": PageSample(_l("Too many attempts"), "hosted/too_many.html", lambda c: {}, 429),
    "error": PageSample(_l("Error page"), "error.html", _error, 404),
}

MAILS = {
    "verify_email": _l("Confirmation code"),
    "account_exists": _l("Sign-up with an existing address"),
    "password_reset": _l("Password reset code"),
    "password_changed": _l("Password changed"),
}


def sample_mail_context(settings: Settings) -> dict:
    return {"email": SAMPLE_EMAIL, "code": "123456", "minutes": settings.code_ttl_seconds // 60,
            "link": issuer_url(settings, "hosted.password_reset", flow="sample", code="123456"),
            "reset_link": issuer_url(settings, "hosted.password_forgot")}
