"""`frontdesk cognito ...`: what an app's SDK settings need (info) and the SigV4 keys of
the admin actions (keys create, shown once)."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from app.extensions import frontdesk_state
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
