"""User-facing wording that the rules leave to the pages: policy violations, code errors,
attribute labels, scopes in plain words."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.accounts.policy import PolicyViolation

GENERIC_LOGIN_ERROR = _l("The e-mail address or password is not right, or the account cannot "
                         "sign in right now. Check them and try again.")

ATTRIBUTE_LABELS = {
    "name": _l("Full name"),
    "given_name": _l("First name"),
    "family_name": _l("Last name"),
    "nickname": _l("Nickname"),
    "preferred_username": _l("Username"),
    "phone_number": _l("Phone number"),
    "birthdate": _l("Date of birth"),
    "locale": _l("Language"),
    "zoneinfo": _l("Time zone"),
    "website": _l("Website"),
}

SCOPE_DESCRIPTIONS = {
    "openid": _l("Sign you in with your account"),
    "profile": _l("See your name and profile details"),
    "email": _l("See your e-mail address"),
    "phone": _l("See your phone number"),
    "address": _l("See your postal address"),
    "groups": _l("See the groups you belong to"),
    "offline_access": _l("Keep access when you are not using the app"),
}

CODE_ERRORS = {
    "invalid": _l("That code is not right. Check the e-mail and try again."),
    "expired": _l("This code has expired or was already used. Ask for a new one."),
    "exhausted": _l("Too many wrong codes. Ask for a new code."),
}


def policy_message(violation: PolicyViolation):
    messages = {
        "too_short": _l("Use at least %(n)s characters.", n=violation.value),
        "too_long": _l("Use at most %(n)s characters.", n=violation.value),
        "missing_lower": _l("Include a lowercase letter."),
        "missing_upper": _l("Include an uppercase letter."),
        "missing_digit": _l("Include a digit."),
        "missing_symbol": _l("Include a symbol, like ! or #."),
        "common": _l("This password is too common. Choose a less predictable one."),
        "is_email": _l("Do not use your e-mail address as your password."),
    }
    return messages.get(violation.rule, _l("Choose a different password."))


def attribute_label(name: str):
    return ATTRIBUTE_LABELS.get(name, name.replace("_", " ").capitalize())


def scope_description(scope: str):
    return SCOPE_DESCRIPTIONS.get(scope, _l("Access “%(scope)s”", scope=scope))
