"""Forms of the hosted pages (Flask-WTF: every form carries a CSRF token).

Field names are a contract (COMMON.md): login `email`, `password`, `interaction`; MFA `code`;
consent posts a button `decision` = allow | deny.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, ValidationError

from app.accounts.policy import check_password
from app.accounts.users import UserError, normalize_email
from app.extensions import frontdesk_state
from app.hosted.messages import policy_message

EMAIL_MAX = 320
PASSWORD_MAX = 1024  # the policy says 256; this only bounds what we read


def required() -> InputRequired:
    return InputRequired(message=_l("Please fill in this field."))


class ValidEmail:
    """A syntactically valid address (normalized in place)."""

    def __call__(self, form, field) -> None:
        try:
            field.data = normalize_email(field.data or "")
        except UserError:
            raise ValidationError(
                _l("Enter a valid e-mail address, like name@example.com.")) from None


class PasswordPolicy:
    """The deployment's password policy, one message per broken rule."""

    def __init__(self, email_field: str | None = None) -> None:
        self.email_field = email_field

    def __call__(self, form, field) -> None:
        email = form[self.email_field].data if self.email_field else None
        violations = check_password(frontdesk_state().settings, field.data or "", email)
        if violations:
            raise ValidationError(" ".join(str(policy_message(v)) for v in violations))


class InteractionForm(FlaskForm):
    interaction = HiddenField()


class LoginForm(InteractionForm):
    email = StringField(_l("E-mail address"), validators=[required(), Length(max=EMAIL_MAX)])
    password = PasswordField(_l("Password"), validators=[required(), Length(max=PASSWORD_MAX)])


class MfaForm(InteractionForm):
    code = StringField(_l("Verification code"), validators=[required(), Length(max=64)])


class MfaSetupForm(InteractionForm):
    code = StringField(_l("Code from your app"), validators=[required(), Length(max=16)])


class SignupForm(InteractionForm):
    email = StringField(_l("E-mail address"), validators=[
        required(), Length(max=EMAIL_MAX), ValidEmail()])
    password = PasswordField(_l("Password"), validators=[
        required(), Length(max=PASSWORD_MAX), PasswordPolicy("email")])


class ConfirmForm(InteractionForm):
    flow = HiddenField()
    code = StringField(_l("Confirmation code"), validators=[required(), Length(max=16)])


class ResendForm(InteractionForm):
    flow = HiddenField()


class ForgotForm(InteractionForm):
    email = StringField(_l("E-mail address"), validators=[required(), Length(max=EMAIL_MAX)])


class ResetForm(InteractionForm):
    flow = HiddenField()
    code = StringField(_l("Reset code"), validators=[required(), Length(max=16)])
    password = PasswordField(_l("New password"), validators=[
        required(), Length(max=PASSWORD_MAX), PasswordPolicy()])


class ConsentForm(InteractionForm):
    decision = SubmitField()


class LogoutForm(FlaskForm):
    pass


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[
        required(), Length(max=PASSWORD_MAX)])
    new_password = PasswordField(_l("New password"), validators=[
        required(), Length(max=PASSWORD_MAX), PasswordPolicy()])


class DisableMfaForm(FlaskForm):
    """Sensitive account changes ask for the current password again."""

    mfa_password = PasswordField(_l("Current password"), validators=[
        required(), Length(max=PASSWORD_MAX)])


class RecoveryCodesForm(FlaskForm):
    codes_password = PasswordField(_l("Current password"), validators=[
        required(), Length(max=PASSWORD_MAX)])


class ActionForm(FlaskForm):
    """A button that only needs the CSRF token (sign out everywhere, unlink)."""


def signup_form_class(attributes: list[str]) -> type[SignupForm]:
    """SignupForm plus one required text field per configured attribute."""
    from app.hosted.messages import attribute_label

    reserved = set(dir(SignupForm)) | {"email", "password", "interaction", "csrf_token"}
    fields = {name: StringField(attribute_label(name), validators=[required(), Length(max=200)])
              for name in attributes if name.isidentifier() and name not in reserved}
    return type("SignupForm", (SignupForm,), fields)
