"""Trigger functions the hosted tests configure (FRONTDESK_TRIGGER_* = module:function)."""

from app.triggers import TriggerAbort


def reject_authentication(event):
    raise TriggerAbort("Sign-in is paused for this account.")


def migrate_legacy_user(event):
    if event["email"] == "legacy@example.com" and event["password"] == "legacy password 1":
        return {"attributes": {"name": "Legacy User"}, "email_verified": True}
    return {}


def migrate_with_bad_attributes(event):
    """The legacy system vouches for the user but sends attributes we do not declare."""
    if event["password"] == "legacy password 1":
        return {"attributes": {"favourite_colour": "teal"}, "email_verified": True}
    return {}


def reject_example_org(event):
    if event["email"].endswith("@example.org"):
        raise TriggerAbort("Sign-ups from example.org are closed.")
    return {}


def auto_confirm(event):
    return {"auto_confirm": True}


def rewrite_subject(event):
    return {"subject": "[Custom] " + event["subject"]}
