"""The demo pages. The demo's own state lives in the session under the "demo" key."""

from __future__ import annotations

import json
import secrets
import time

from flask import Blueprint, redirect, render_template, request, session, url_for

from app.demo import DEMO_CLIENT_ID, demo_client_secret, demo_post_logout_uri, demo_redirect_uri, rp
from app.extensions import db, settings

bp = Blueprint("demo", __name__, url_prefix="/demo")


def _state() -> dict:
    return dict(session.get("demo") or {})


def _save(state: dict) -> None:
    session["demo"] = state


@bp.get("/")
def index():
    state = _state()
    error = state.pop("error", None)
    if error:
        _save(state)  # shown once
    signed_out = request.args.get("state") is not None and not state.get("tokens")
    return render_template("demo/index.html", view=_view(state), error=error,
                           signed_out=signed_out, issuer=settings().issuer)


@bp.get("/login")
def login():
    ensure_demo_client()
    url, pending = rp.start_request(settings())
    _save({"pending": pending})
    return redirect(url, 303)


@bp.get("/callback")
def callback():
    state = _state()
    pending = state.pop("pending", None)
    if request.args.get("error"):
        state["error"] = f"{request.args['error']}: {request.args.get('error_description', '')}"
    elif not pending or not secrets.compare_digest(request.args.get("state", ""),
                                                   pending["state"]):
        state["error"] = "This answer does not belong to a sign-in started here."
    else:
        try:
            tokens = rp.exchange_code(settings(), request.args.get("code", ""), pending)
            state.update(_collect(tokens))
        except rp.DemoError as exc:
            state["error"] = str(exc)
    _save(state)
    return redirect(url_for("demo.index"), 303)


@bp.post("/refresh")
def refresh():
    state = _state()
    tokens = state.get("tokens") or {}
    try:
        fresh = rp.refresh(settings(), tokens.get("refresh_token", ""))
        fresh.setdefault("id_token", tokens.get("id_token"))
        state.update(_collect(fresh, nonce=None))
        state["refreshed_at"] = int(time.time())
    except rp.DemoError as exc:
        state["error"] = str(exc)
    _save(state)
    return redirect(url_for("demo.index"), 303)


@bp.post("/logout")
def logout():
    tokens = _state().get("tokens") or {}
    session.pop("demo", None)
    if not tokens.get("id_token"):
        return redirect(url_for("demo.index"), 303)
    return redirect(rp.logout_url(settings(), tokens["id_token"], secrets.token_urlsafe(8)),
                    303)


def _collect(tokens: dict, nonce: str | None = None) -> dict:
    """What the page shows: the verified claims and the userinfo answer."""
    config = settings()
    id_claims = rp.check_id_token(config, tokens["id_token"], nonce)
    _, access_claims = rp.decode(config, tokens["access_token"])
    return {"tokens": {k: tokens.get(k) for k in ("access_token", "id_token",
                                                  "refresh_token", "expires_in", "scope")},
            "id_claims": id_claims, "access_claims": access_claims,
            "userinfo": rp.fetch_userinfo(config, tokens["access_token"])}


def _view(state: dict) -> dict | None:
    if not state.get("tokens"):
        return None
    pretty = {k: json.dumps(state.get(k), indent=2, sort_keys=True)
              for k in ("id_claims", "access_claims", "userinfo")}
    tokens = state["tokens"]
    return {**pretty, "scope": tokens.get("scope"), "expires_in": tokens.get("expires_in"),
            "has_refresh": bool(tokens.get("refresh_token")),
            "refreshed_at": state.get("refreshed_at"),
            "email": (state.get("userinfo") or {}).get("email")}


def ensure_demo_client() -> None:
    """Register the demo client on first use (quick start); `frontdesk demo` does it too."""
    from app.models import Client
    from app.oauth.clients import create_client

    config = settings()
    if db.session.get(Client, DEMO_CLIENT_ID) is not None:
        return
    create_client(name="Frontdesk demo app", client_id=DEMO_CLIENT_ID,
                  client_secret=demo_client_secret(config),
                  redirect_uris=[demo_redirect_uri(config)],
                  post_logout_redirect_uris=[demo_post_logout_uri(config)],
                  is_first_party=True)
    db.session.commit()
