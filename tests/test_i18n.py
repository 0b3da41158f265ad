"""Languages: complete catalogs (a missing string fails here), selection by the switcher,
ui_locales and Accept-Language, translated mails and form errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from tests.hosted.helpers import code_in, post_form, start_authorization, text

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "app" / "translations"
LANGUAGES = ("en", "de", "es")


def extracted_ids() -> set:
    """Every gettext string in the hosted pages' code and templates, extracted now."""
    cfg = TRANSLATIONS / "babel.cfg"
    with cfg.open() as handle:
        method_map, options_map = parse_mapping_cfg(handle, str(cfg))
    keywords = dict(DEFAULT_KEYWORDS) | {"_l": None}
    return {message for _, _, message, _, _ in extract_from_dir(
        ROOT, method_map, options_map, keywords=keywords)}


@pytest.fixture(scope="module")
def source_ids():
    ids = extracted_ids()
    assert len(ids) > 150
    return ids


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_has_every_string_translated(language, source_ids):
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    missing = sorted(str(i) for i in source_ids if catalog.get(i) is None)
    assert not missing, f"{language}: not in the catalog: {missing[:10]}"
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"{language}: untranslated {message.id!r}"
        assert not message.fuzzy, f"{language}: fuzzy {message.id!r}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalog_matches_the_po(language):
    folder = TRANSLATIONS / language / "LC_MESSAGES"
    with (folder / "messages.po").open("rb") as handle:
        po = read_po(handle)
    with (folder / "messages.mo").open("rb") as handle:
        mo = read_mo(handle)
    for message in po:
        if message.id:
            compiled = mo.get(message.id)
            assert compiled is not None and tuple(compiled.string if isinstance(
                compiled.string, list | tuple) else [compiled.string]) == tuple(
                message.string if isinstance(message.string, tuple) else [message.string]), \
                f"{language}: recompile messages.mo ({message.id!r})"


def test_accept_language_picks_the_language(client):
    assert "<title>Anmelden" in text(client.get("/login", headers={"Accept-Language": "de-CH"}))
    assert "<title>Iniciar sesión" in text(client.get(
        "/login", headers={"Accept-Language": "es-ES,es;q=0.9,en;q=0.5"}))
    assert "<title>Sign in" in text(client.get("/login", headers={"Accept-Language": "fr"}))
    assert 'lang="de"' in text(client.get("/login", headers={"Accept-Language": "de"}))


def test_switcher_links_and_choice_sticks(client):
    body = text(client.get("/signup?lang=de"))
    assert "<title>Erstellen Sie Ihr Konto" in body
    for code in ("en", "de", "es"):
        assert f'hreflang="{code}"' in body
    assert 'aria-current="true"' in body
    assert "<title>Anmelden" in text(client.get("/login", headers={"Accept-Language": "es"}))


def test_ui_locales_from_the_interaction(client, oauth_client):
    _, _, location = start_authorization(client, oauth_client, ui_locales="es de")
    body = text(client.get(location, headers={"Accept-Language": "de"}))
    assert "<title>Iniciar sesión" in body
    assert "para continuar en Test App" in body


def test_form_errors_and_mails_are_translated(client, outbox):
    headers = {"Accept-Language": "de"}
    response = post_form(client, "/signup", {"email": "x", "password": "a"}, headers=headers)
    body = text(response)
    assert "Geben Sie eine gültige E-Mail-Adresse ein" in body
    assert "Verwenden Sie mindestens 8 Zeichen." in body
    post_form(client, "/signup", {"email": "neu@example.com", "password": "ein gutes passwort",
                                  "name": "Neu"}, headers=headers)
    message = outbox.last()
    assert message["Subject"].startswith("Ihr Bestätigungscode: ")
    assert "Ihr Bestätigungscode lautet:" in outbox.text(message)
    assert code_in(message["Subject"]) in outbox.text(message)


def test_error_page_is_translated(client):
    response = client.get("/nowhere", headers={"Accept-Language": "es"})
    assert response.status_code == 404 and "Página no encontrada" in text(response)


def test_switcher_on_a_posted_page_keeps_the_flow(client):
    response = post_form(client, "/signup/confirm?flow=abc", {"flow": "abc", "code": "1"})
    assert "/signup/confirm?flow=abc&amp;lang=de" in response.get_data(as_text=True)
    assert "code=" not in response.get_data(as_text=True).split('hreflang="de"')[0][-200:]
