"""`frontdesk cognito ...`: what an app's SDK settings need (info) and the SigV4 keys of
the admin actions (keys create, shown once)."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from app.extensions import db, frontdesk_state
from app.userpool_api.keys import ADMIN_SCOPES, create_access_key
from app.userpool_api.pool import endpoint, pool_region, user_pool_id


@click.group("cognito")
def cognito_group() -> None:
    """The user-pool API (cognito-idp) that Amplify, boto3 and the AWS SDKs speak."""


def pool_info() -> dict[str, str]:
    settings = frontdesk_state().settings
    return {"endpoint": endpoint(settings), "region": pool_region(settings),
            "user_pool_id": user_pool_id(settings)}


@cognito_group.command("info")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object")
@with_appcontext
def info_command(as_json: bool) -> None:
    """The endpoint, region and pool id to put in an app's SDK settings."""
    info = pool_info()
    if as_json:
        click.echo(json.dumps(info))
    else:
        click.echo("\n".join(f"{key}: {value}" for key, value in info.items()))


@cognito_group.group("keys")
def keys_group() -> None:
    """SigV4 access keys for the admin actions (AdminCreateUser, ListUsers, ...)."""


@keys_group.command("create")
@click.option("--scope", "scopes", multiple=True, required=True,
              type=click.Choice(list(ADMIN_SCOPES)), help="Admin scope (repeat)")
@click.option("--name", default="", help="What the key is for")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object")
@with_appcontext
def keys_create(scopes: tuple[str, ...], name: str, as_json: bool) -> None:
    """A new key pair; the secret is printed once and kept sealed."""
    row, secret = create_access_key(list(scopes), name)
    db.session.commit()
    created = {"access_key_id": row.access_key_id, "secret_access_key": secret,
               "scopes": row.scopes, "region": pool_info()["region"]}
    if as_json:
        click.echo(json.dumps(created))
    else:
        click.echo(f"access_key_id:     {row.access_key_id}\n"
                   f"secret_access_key: {secret}  (shown once)")
