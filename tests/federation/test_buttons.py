"""The provider buttons in the theme preview: one of each kind, in each language."""

from __future__ import annotations

import pytest

CONTINUE = {"en": "Continue with", "de": "Weiter mit", "es": "Continuar con"}


@pytest.mark.parametrize("language", sorted(CONTINUE))
def test_preview_shows_a_button_of_each_kind_translated(client, language):
    page = client.get("/_theme/preview/page/login",
                      headers={"Accept-Language": language}).get_data(as_text=True)
    for name, label in (("google", "Google"), ("apple", "Apple"), ("facebook", "Facebook"),
                        ("github", "GitHub"), ("acme", "Acme SSO")):
        assert f"fd-provider--{name}" in page
        assert f"{CONTINUE[language]} {label}" in page
