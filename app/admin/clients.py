"""Admin API: OAuth clients (CRUD) and secret rotation. Creation goes through
app.oauth.clients.create_client, the same rules as `frontdesk clients create`."""

from __future__ import annotations

import secrets
from typing import Any

from flask import url_for

from app.admin.auth import audit, require_scope
from app.admin.blueprint import bp, json_response, no_content
from app.admin.bodies import decode_cursor, encode_cursor, json_body, query_params
from app.admin.openapi import PAGE_QUERY, admin_schemas
from app.admin.problems import conflict, not_found, validation_problem
from app.extensions import db
from app.models import Client
from app.oauth.clients import ClientError, create_client, validate_redirect_uri

SCOPE = "admin:clients"


def client_resource(client: Client) -> dict[str, Any]:
    """The Client schema of the OpenAPI document (never the secret or its hash)."""
    return {
        "client_id": client.client_id, "name": client.name, "logo_url": client.logo_url,
        "redirect_uris": list(client.redirect_uris or []),
        "post_logout_redirect_uris": list(client.post_logout_redirect_uris or []),
        "grant_types": list(client.grant_types or []), "scopes": list(client.scopes or []),
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
        "public": client.is_public, "first_party": client.is_first_party,
        "access_token_seconds": client.access_token_seconds,
        "refresh_token_seconds": client.refresh_token_seconds,
        "created_at": client.created_at.isoformat(),
        "updated_at": client.updated_at.isoformat() if client.updated_at else None,
    }


def _client(client_id: str) -> Client:
    client = db.session.get(Client, client_id) if len(client_id) <= 128 else None
    if client is None:
        raise not_found("client")
    return client


EXTRA_FIELDS = ("logo_url", "access_token_seconds", "refresh_token_seconds", "jwks_uri")


@bp.get("/clients")
@require_scope(SCOPE)
def list_clients():
    args = query_params(PAGE_QUERY)
    key, limit = decode_cursor(args.get("cursor")), args.get("limit", 50)
    stmt = db.select(Client).order_by(Client.client_id)
    if key:
        stmt = stmt.where(Client.client_id > key[0])
    clients = db.session.scalars(stmt.limit(limit + 1)).all()
    more = len(clients) > limit
    return json_response({
        "clients": [client_resource(c) for c in clients[:limit]],
        "next_cursor": encode_cursor(clients[limit - 1].client_id) if more else None})


def _new_client(body: dict) -> tuple[Client, str | None]:
    if body.get("client_id") and db.session.get(Client, body["client_id"]) is not None:
        raise conflict("A client with this id exists.")
    extra = {k: body[k] for k in EXTRA_FIELDS if body.get(k) is not None}
    try:
        new = create_client(
            name=body["name"], redirect_uris=body.get("redirect_uris", []),
            post_logout_redirect_uris=body.get("post_logout_redirect_uris", []),
            is_public=body.get("public", False), grant_types=body.get("grant_types"),
            scopes=body.get("scopes"), auth_method=body.get("token_endpoint_auth_method"),
            is_first_party=body.get("first_party", False), client_id=body.get("client_id"),
            **extra)
    except ClientError as exc:
        raise validation_problem({"client": str(exc)}) from None
    db.session.flush()
    return new.client, new.client_secret


@bp.post("/clients")
@require_scope(SCOPE)
def create_client_view():
    body = json_body(admin_schemas()["ClientCreate"])
    client, secret = _new_client(body)
    audit("admin.client.created", target_client_id=client.client_id, name=client.name)
    db.session.commit()
    return json_response(client_resource(client) | {"client_secret": secret}, 201,
                         {"Location": url_for("admin.get_client", client_id=client.client_id)})


@bp.get("/clients/<client_id>")
@require_scope(SCOPE)
def get_client(client_id: str):
    return json_response(client_resource(_client(client_id)))


def _check_update(client: Client, body: dict) -> None:
    """The rules create_client enforces, on the client as it will be."""
    grants = body.get("grant_types", client.grant_types)
    redirects = body.get("redirect_uris", client.redirect_uris)
    try:
        for uri in [*body.get("redirect_uris", []), *body.get("post_logout_redirect_uris", [])]:
            validate_redirect_uri(uri)
        if client.is_public and "client_credentials" in grants:
            raise ClientError("a public client cannot use client_credentials")
        if "authorization_code" in grants and not redirects:
            raise ClientError("the authorization_code grant needs at least one redirect URI")
    except ClientError as exc:
        raise validation_problem({"client": str(exc)}) from None


COLUMNS = {"name": "name", "logo_url": "logo_url", "redirect_uris": "redirect_uris",
           "post_logout_redirect_uris": "post_logout_redirect_uris",
           "grant_types": "grant_types", "scopes": "scopes", "first_party": "is_first_party",
           "access_token_seconds": "access_token_seconds",
           "refresh_token_seconds": "refresh_token_seconds"}


@bp.patch("/clients/<client_id>")
@require_scope(SCOPE)
def update_client(client_id: str):
    client = _client(client_id)
    body = json_body(admin_schemas()["ClientUpdate"])
    if "name" in body and not body["name"].strip():
        raise validation_problem({"name": "a client needs a name"})
    _check_update(client, body)
    for field, column in COLUMNS.items():
        if field in body:
            value = body[field].strip() if field == "name" else body[field]
            setattr(client, column, list(value) if isinstance(value, list) else value)
    audit("admin.client.updated", target_client_id=client.client_id, fields=sorted(body))
    db.session.commit()
    return json_response(client_resource(client))


@bp.delete("/clients/<client_id>")
@require_scope(SCOPE)
def delete_client(client_id: str):
    client = _client(client_id)
    audit("admin.client.deleted", target_client_id=client.client_id, name=client.name)
    db.session.delete(client)
    db.session.commit()
    return no_content()


@bp.post("/clients/<client_id>/rotate-secret")
@require_scope(SCOPE)
def rotate_secret(client_id: str):
    client = _client(client_id)
    if client.is_public or client.token_endpoint_auth_method in ("none", "private_key_jwt"):
        raise conflict("This client does not authenticate with a secret.")
    secret = secrets.token_urlsafe(32)
    client.set_secret(secret)
    audit("admin.client.secret_rotated", target_client_id=client.client_id)
    db.session.commit()
    return json_response({"client_id": client.client_id, "client_secret": secret})
