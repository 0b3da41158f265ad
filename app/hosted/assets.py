"""Static files of themes: /_theme/assets/<theme>/<file> (`_site` = THEME_DIR/static)."""

from __future__ import annotations

from flask import abort, send_from_directory

from app.extensions import frontdesk_state
from app.hosted.blueprint import bp
from app.hosted.headers import ASSET_CSP
from app.hosted.theming import theme_dir

ASSET_MAX_AGE_SECONDS = 3600


@bp.get("/_theme/assets/<theme>/<path:filename>")
def theme_asset(theme: str, filename: str):
    folder = theme_dir(frontdesk_state().settings, theme)
    if folder is None or not (folder / "static").is_dir():
        abort(404)
    response = send_from_directory(folder / "static", filename, max_age=ASSET_MAX_AGE_SECONDS)
    response.headers["Content-Security-Policy"] = ASSET_CSP
    return response
