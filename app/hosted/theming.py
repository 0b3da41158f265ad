"""Themes: template lookup order and theme assets.

Loader order: THEME_DIR/templates -> the client's theme -> templates/.
A client's theme is a folder named by `Client.theme`: THEME_DIR/clients/<name>/ or, for the
themes shipped in the repository, themes/<name>/; each may hold templates/ and static/.
A theme template can extend the default it shadows as "default/<path>" (e.g. a base.html that
overrides one block of "default/base.html"). static/theme.css is added after the default
stylesheet (a few --fd-* custom properties make most themes); static/logo.svg or logo.png
replaces the wordmark; THEME_DIR/static/frontdesk.css replaces the default stylesheet.
Each client theme gets its own Jinja environment (an overlay of the app's), kept per app.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask, current_app, g, url_for
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader

from app.config import Settings
from app.extensions import frontdesk_state

ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_TEMPLATES = ROOT / "templates"
SHIPPED_THEMES = ROOT / "themes"
SITE_THEME = "_site"
THEME_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
LOGO_NAMES = ("logo.svg", "logo.png")


def site_theme_dir(settings: Settings) -> Path | None:
    return Path(settings.theme_dir) if settings.theme_dir else None


def client_theme_dir(settings: Settings, name: str | None) -> Path | None:
    """The folder of a client's theme, or None when it names nothing that exists."""
    if not name or not THEME_NAME_RE.match(name):
        return None
    site = site_theme_dir(settings)
    for candidate in ((site / "clients" / name) if site else None, SHIPPED_THEMES / name):
        if candidate is not None and candidate.is_dir():
            return candidate
    return None


def theme_dir(settings: Settings, name: str) -> Path | None:
    return site_theme_dir(settings) if name == SITE_THEME else client_theme_dir(settings, name)


def available_themes(settings: Settings) -> list[str]:
    """Client theme names an operator can choose from (theme preview)."""
    names: set[str] = set()
    site = site_theme_dir(settings)
    for parent in ((site / "clients") if site else None, SHIPPED_THEMES):
        if parent is not None and parent.is_dir():
            names.update(p.name for p in parent.iterdir() if p.is_dir() and
                         THEME_NAME_RE.match(p.name))
    return sorted(names)


def _templates_loader(folder: Path | None) -> list[FileSystemLoader]:
    if folder is not None and (folder / "templates").is_dir():
        return [FileSystemLoader(str(folder / "templates"))]
    return []


def install_theming(app: Flask, settings: Settings) -> None:
    """The app's own loader: THEME_DIR/templates, then templates/ (and default/...)."""
    app.jinja_loader = ChoiceLoader([
        *_templates_loader(site_theme_dir(settings)),
        FileSystemLoader(str(DEFAULT_TEMPLATES)),
        PrefixLoader({"default": FileSystemLoader(str(DEFAULT_TEMPLATES))}),
    ])
    frontdesk_state(app).extras["theme_environments"] = {}


def theme_environment(name: str | None) -> Environment:
    """The Jinja environment for a client theme (the app's one when there is none)."""
    settings = frontdesk_state().settings
    folder = client_theme_dir(settings, name)
    if folder is None:
        return current_app.jinja_env
    cache: dict[str, Environment] = frontdesk_state().extras["theme_environments"]
    env = cache.get(name)
    if env is None:
        env = current_app.jinja_env.overlay(loader=ChoiceLoader([
            *_templates_loader(site_theme_dir(settings)), *_templates_loader(folder),
            current_app.jinja_env.loader]))
        cache[name] = env
    return env


def use_theme(name: str | None) -> None:
    """Render the rest of this request (pages and mails) with this client theme."""
    g.fd_theme = name if client_theme_dir(frontdesk_state().settings, name) else None
    g.fd_jinja_env = theme_environment(g.fd_theme)


@dataclass
class ThemeAssets:
    stylesheets: list[str] = field(default_factory=list)
    logo_url: str | None = None
    name: str | None = None


def _asset(folder: Path | None, theme: str, filename: str) -> str | None:
    if folder is not None and (folder / "static" / filename).is_file():
        return url_for("hosted.theme_asset", theme=theme, filename=filename)
    return None


def theme_assets() -> ThemeAssets:
    """Stylesheets (default, then site, then client) and the logo for the current page."""
    settings = frontdesk_state().settings
    site = site_theme_dir(settings)
    client_name = g.get("fd_theme")
    client = client_theme_dir(settings, client_name)
    default_css = _asset(site, SITE_THEME, "frontdesk.css") or \
        url_for("static", filename="frontdesk.css")
    sheets = [default_css, _asset(site, SITE_THEME, "theme.css"),
              _asset(client, client_name or "", "theme.css")]
    logos = [_asset(client, client_name or "", n) for n in LOGO_NAMES] + \
        [_asset(site, SITE_THEME, n) for n in LOGO_NAMES]
    return ThemeAssets(stylesheets=[s for s in sheets if s],
                       logo_url=next((u for u in logos if u), None), name=client_name)
