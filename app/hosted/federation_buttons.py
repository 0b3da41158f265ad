"""A button per configured upstream identity provider on the login page.

The federation part (app/federation, a sibling we may not import) keeps its providers in
`frontdesk_state().extras["federation"].providers` (name -> provider with `.label`) and
serves `federation.start` (/federation/<provider>/start). A POST endpoint gets a small form
with the CSRF token, a GET one a link.
"""

from __future__ import annotations

from flask import current_app, url_for

from app.extensions import frontdesk_state

START_ENDPOINT = "federation.start"
# What the theme preview shows: one button of each kind of upstream (themes style them by
# the `fd-provider--<name>` class; a SAML provider's name is the deployment's own).
SAMPLE_BUTTONS = tuple(
    {"name": name, "label": label, "method": "get", "url": "#"}
    for name, label in (("google", "Google"), ("apple", "Apple"), ("facebook", "Facebook"),
                        ("github", "GitHub"), ("acme", "Acme SSO")))


def _start_methods() -> set[str]:
    if START_ENDPOINT not in current_app.view_functions:
        return set()
    for rule in current_app.url_map.iter_rules(START_ENDPOINT):
        return set(rule.methods or ())
    return set()


def federation_buttons(interaction_id: str | None) -> list[dict]:
    federation = frontdesk_state().extras.get("federation")
    providers = getattr(federation, "providers", None) or {}
    methods = _start_methods()
    if not providers or not methods:
        return []
    method = "post" if "POST" in methods else "get"
    return [{"name": name, "label": getattr(p, "label", name), "method": method,
             "url": url_for(START_ENDPOINT, provider=name, interaction=interaction_id)}
            for name, p in providers.items()]
