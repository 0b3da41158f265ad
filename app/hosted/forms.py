"""Forms of the hosted pages (Flask-WTF: every form carries a CSRF token).

Field names are a contract with the themes and the clients that post them: login `email`,
`password`, `interaction`; MFA `code`; consent posts a button `decision` = allow | deny.
"""

from __future__ import annotations

from collections.abc import Iterable

from babel import support
from flask import current_app, has_request_context
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import SelectField, SubmitField, fields, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.i18n import messages_path
from wtforms.validators import InputRequired, Length, ValidationError
from wtforms.widgets.core import clean_key

from app.accounts.attributes import AttributeSpec
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


class WTFormsCatalog:
    """WTForms' own messages (CSRF, default labels) in the page's language. Flask-WTF parses
    the catalog from disk on every request; this keeps one per language in the app."""

    def gettext(self, string: str) -> str:
        catalog = _wtforms_catalog()
        return string if catalog is None else catalog.ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        catalog = _wtforms_catalog()
        if catalog is None:
            return singular if n == 1 else plural
        return catalog.ungettext(singular, plural, n)


def _wtforms_catalog() -> support.NullTranslations | None:
    if not has_request_context() or "babel" not in current_app.extensions:
        return None
    locale = get_locale()
    catalogs = frontdesk_state().extras.setdefault("wtforms_catalogs", {})
    catalog = catalogs.get(str(locale))
    if catalog is None:
        catalog = catalogs[str(locale)] = support.Translations.load(
            messages_path(), [locale], domain="wtforms")
    return catalog


WTFORMS_CATALOG = WTFormsCatalog()


def html_params(**attributes) -> Markup:
    """wtforms.widgets.html_params, same output (keys sorted, True bare, False left out,
    values escaped), without a Markup.format() per attribute: the pages' inputs cost half."""
    params = []
    for key, value in sorted(attributes.items()):
        key = escape(clean_key(key))
        if value is True:
            params.append(key)
        elif value is not False:
            value = str(escape(value))
            if '"' in value:  # only a Markup value can still hold one
                value = value.replace('"', "&quot;")
            params.append(f'{key}="{value}"')
    return Markup(" ".join(params))  # noqa: S704 - every key and value is escaped above


class _TextInput(widgets.TextInput):
    html_params = staticmethod(html_params)


class _PasswordInput(widgets.PasswordInput):
    html_params = staticmethod(html_params)


class _HiddenInput(widgets.HiddenInput):
    html_params = staticmethod(html_params)


class StringField(fields.StringField):
    """WTForms' fields with the html_params above: the same HTML, rendered faster."""

    widget = _TextInput()


class PasswordField(fields.PasswordField):
    widget = _PasswordInput()


class HiddenField(fields.HiddenField):
    widget = _HiddenInput()


class PageForm(FlaskForm):
    """Every hosted form: Flask-WTF's, with the WTForms catalogs loaded once and the CSRF
    input rendered by the faster widget."""

    class Meta:
        def get_translations(self, form):
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return WTFORMS_CATALOG

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        token = self._fields.get(self.meta.csrf_field_name) if self.meta.csrf else None
        if token is not None:
            token.widget = HiddenField.widget


# Hidden fields are never labelled on a page: a fixed label (WTForms' default text) spares
# working out the language on a post that only redirects.
class InteractionForm(PageForm):
    interaction = HiddenField("Interaction")


class LoginForm(InteractionForm):
    email = StringField(_l("E-mail address"), validators=[required(), Length(max=EMAIL_MAX)])
    password = PasswordField(_l("Password"), validators=[required(), Length(max=PASSWORD_MAX)])


class MfaForm(InteractionForm):
    code = StringField(_l("Verification code"), validators=[required(), Length(max=64)])


class MfaSetupForm(InteractionForm):
    code = StringField(_l("Code from your app"), validators=[required(), Length(max=16)])


class SignupForm(InteractionForm):
    attribute_specs: dict[str, AttributeSpec] = {}  # field name -> attribute (signup_form_class)
    email = StringField(_l("E-mail address"), validators=[
        required(), Length(max=EMAIL_MAX), ValidEmail()])
    password = PasswordField(_l("Password"), validators=[
        required(), Length(max=PASSWORD_MAX), PasswordPolicy("email")])


class ConfirmForm(InteractionForm):
    flow = HiddenField("Flow")
    code = StringField(_l("Confirmation code"), validators=[required(), Length(max=16)])


class ResendForm(InteractionForm):
    flow = HiddenField("Flow")


class ForgotForm(InteractionForm):
    email = StringField(_l("E-mail address"), validators=[required(), Length(max=EMAIL_MAX)])


class ResetForm(InteractionForm):
    flow = HiddenField("Flow")
    code = StringField(_l("Reset code"), validators=[required(), Length(max=16)])
    password = PasswordField(_l("New password"), validators=[
        required(), Length(max=PASSWORD_MAX), PasswordPolicy()])


class ConsentForm(InteractionForm):
    decision = SubmitField()


class LogoutForm(PageForm):
    pass


class ChangePasswordForm(PageForm):
    current_password = PasswordField(_l("Current password"), validators=[
        required(), Length(max=PASSWORD_MAX)])
    new_password = PasswordField(_l("New password"), validators=[
        required(), Length(max=PASSWORD_MAX), PasswordPolicy()])


class DisableMfaForm(PageForm):
    """Sensitive account changes ask for the current password again."""

    mfa_password = PasswordField(_l("Current password"), validators=[
        required(), Length(max=PASSWORD_MAX)])


class RecoveryCodesForm(PageForm):
    codes_password = PasswordField(_l("Current password"), validators=[
        required(), Length(max=PASSWORD_MAX)])


class ActionForm(PageForm):
    """A button that only needs the CSRF token (sign out everywhere, unlink)."""


# HTML hints for the standard profile attributes (OIDC Core §5.1)
STANDARD_INPUTS = {
    "name": {"autocomplete": "name"}, "given_name": {"autocomplete": "given-name"},
    "family_name": {"autocomplete": "family-name"},
    "middle_name": {"autocomplete": "additional-name"},
    "nickname": {"autocomplete": "nickname"}, "preferred_username": {"autocomplete": "username"},
    "phone_number": {"type": "tel", "autocomplete": "tel"},
    "birthdate": {"type": "date", "autocomplete": "bday"},
    "website": {"type": "url", "autocomplete": "url"}, "profile": {"type": "url"},
    "picture": {"type": "url"},
}


def _choices(spec: AttributeSpec) -> list[SelectChoice]:
    if spec.type == "boolean":
        pairs = [("true", _l("Yes")), ("false", _l("No"))]
    else:
        pairs = [(value, value) for value in spec.enum]
    return [SelectChoice("", _l("Choose…"))] + [SelectChoice(v, label) for v, label in pairs]


def _number_hint(spec: AttributeSpec):
    if spec.min is not None and spec.max is not None:
        return _l("A number from %(min)s to %(max)s.", min=f"{spec.min:g}", max=f"{spec.max:g}")
    if spec.min is not None:
        return _l("A number of at least %(min)s.", min=f"{spec.min:g}")
    if spec.max is not None:
        return _l("A number of at most %(max)s.", max=f"{spec.max:g}")
    return ""


def attribute_field(spec: AttributeSpec, label):
    """A sign-up input that suits the attribute's type; the rules stay in accounts/."""
    if spec.type == "boolean" or spec.enum:
        return SelectField(label, choices=_choices(spec), validate_choice=False,
                           validators=[required()])
    if spec.type == "number":
        bounds = {k: f"{v:g}" for k, v in (("min", spec.min), ("max", spec.max)) if v is not None}
        return StringField(label, description=_number_hint(spec), validators=[required()],
                           render_kw={"type": "number", "step": "any", "inputmode": "decimal",
                                      **bounds})
    if spec.type == "datetime":
        return StringField(label, description=_l("Date and time in UTC."),
                           validators=[required()], render_kw={"type": "datetime-local"})
    return StringField(label, validators=[required(), Length(
        max=spec.max_length, message=_l("Use at most %(n)s characters.", n=spec.max_length))],
        render_kw=dict(STANDARD_INPUTS.get(spec.name, {})))


def attribute_error(spec: AttributeSpec, value):
    """The page's words for a value the attribute rules refused."""
    if value is None or not str(value).strip():
        return _l("Please fill in this field.")
    if spec.type == "boolean" or spec.enum:
        return _l("Choose one of the options.")
    if spec.type == "number":
        return _number_hint(spec) or _l("Enter a number.")
    if spec.type == "datetime":
        return _l("Enter a date and time, like 2030-01-31 14:00.")
    return _l("Use at most %(n)s characters.", n=spec.max_length)


def signup_form_class(attributes: Iterable[AttributeSpec | str]) -> type[SignupForm]:
    """SignupForm plus one required field per attribute of signup_attributes(); the class
    maps field names to their specs in `attribute_specs` (a name that clashes with the form
    gets an `attribute_` prefix)."""
    from app.hosted.messages import attribute_label

    reserved = set(dir(SignupForm)) | {"email", "password", "interaction", "csrf_token"}
    fields, specs = {}, {}
    for spec in attributes:
        spec = AttributeSpec(spec, custom=False) if isinstance(spec, str) else spec
        key = spec.name if spec.name not in reserved else f"attribute_{spec.name}"
        label = spec.label if spec.custom and spec.label else attribute_label(spec.name)
        fields[key], specs[key] = attribute_field(spec, label), spec
    return type("SignupForm", (SignupForm,), {**fields, "attribute_specs": specs})
