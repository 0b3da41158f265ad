"""`frontdesk users export|import` and `frontdesk groups ...` (registered by app/cli.py).

Export writes JSON Lines (groups first, then users, password hashes included) to a file
created with mode 0600, or stdout. Import reads JSON Lines or CSV, commits each record on
its own (a failed row is reported and skipped, the others stay), is idempotent by e-mail
and shows a progress bar when stderr is a terminal.
"""

from __future__ import annotations

import csv
import json
import os
import re
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import click
from flask.cli import with_appcontext
from sqlalchemy import func
from sqlalchemy.exc import DataError, IntegrityError

from app.accounts.groups import (
    GroupError,
    add_member,
    create_group,
    delete_group,
    find_group,
    member_count,
    remove_member,
    update_group,
)
from app.accounts.portability import (
    ImportRowError,
    export_group,
    export_query,
    export_user,
    import_record,
)
from app.accounts.users import UserError, require_user
from app.extensions import db, frontdesk_state
from app.models import Group, User, record_event

CSV_FIELDS = {"id", "email", "email_verified", "status", "password_hash", "totp_secret",
              "totp_enabled", "created_at", "last_login_at"}


def _settings():
    return frontdesk_state().settings


def _progress(items, length: int | None, label: str):
    """click.progressbar on a terminal (on stderr), the bare iterable elsewhere."""
    if not sys.stderr.isatty():
        return _NoBar(items)
    return click.progressbar(items, length=length, label=label, file=sys.stderr)


class _NoBar:
    def __init__(self, items) -> None:
        self.items = items

    def __enter__(self):
        return self.items

    def __exit__(self, *exc) -> None:
        return None


@contextmanager
def _private_output(path: str) -> Iterator[IO[str]]:
    if path == "-":
        yield sys.stdout
        return
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        yield handle


# --- export ---------------------------------------------------------------------------------


@click.command("export")
@click.option("-o", "--output", default="-", show_default=True,
              help="File to write (created 0600), - for stdout")
@click.option("--no-mfa", is_flag=True, help="Leave out TOTP secrets and recovery codes")
@with_appcontext
def export_command(output: str, no_mfa: bool) -> None:
    """Export groups and users as JSON Lines, password hashes included."""
    settings = _settings()
    total = db.session.scalar(db.select(func.count()).select_from(User)) or 0
    groups = db.session.scalars(db.select(Group).order_by(Group.name)).all()
    with _private_output(output) as handle:
        for group in groups:
            handle.write(json.dumps(export_group(group)) + "\n")
        users = db.session.scalars(export_query().execution_options(yield_per=200))
        with _progress(users, total, "Exporting users") as bar:
            for user in bar:
                record = export_user(settings, user, include_mfa=not no_mfa)
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    record_event("users.exported", actor="cli", count=total, include_mfa=not no_mfa)
    db.session.commit()
    click.echo(f"exported {len(groups)} groups and {total} users", err=True)


# --- import ---------------------------------------------------------------------------------


def record_from_csv(row: dict[str, Any]) -> dict[str, Any]:
    """A CSV row as an import record: known columns, `groups` split on , or ;, an
    `attributes` JSON column, any other non-empty column is an attribute."""
    if None in row:
        raise ImportRowError("the row has more cells than the header")
    record: dict[str, Any] = {"kind": "user"}
    attributes: dict[str, Any] = {}
    for key, raw in row.items():
        key, value = (key or "").strip(), (raw or "").strip()
        if key in CSV_FIELDS:
            record[key] = value or None
        elif key == "groups":
            record["groups"] = [g.strip() for g in re.split(r"[;,]", value) if g.strip()]
        elif key == "attributes" and value:
            try:
                attributes.update(json.loads(value))
            except (ValueError, TypeError):
                raise ImportRowError("the attributes column is not a JSON object") from None
        elif value:
            attributes[key] = value
    record["attributes"] = attributes
    return record


def read_records(handle: IO[str], fmt: str) -> Iterator[tuple[int, Any, str | None]]:
    """(line or row number, record, error) per line (JSON Lines) or row (CSV)."""
    if fmt == "csv":
        reader = csv.DictReader(handle)
        for row in reader:
            try:
                yield reader.line_num, record_from_csv(row), None
            except ImportRowError as exc:
                yield reader.line_num, None, str(exc)
        return
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line), None
        except ValueError:
            yield number, None, "not valid JSON"


def import_one(settings, record: Any, update: bool) -> tuple[str | None, str | None]:
    """(outcome, error) for one record, committed on its own or rolled back."""
    try:
        outcome = import_record(settings, record, update=update)
        db.session.commit()
        return outcome, None
    except (UserError, ValueError) as exc:
        db.session.rollback()
        return None, str(exc)
    except IntegrityError:
        db.session.rollback()
        return None, "conflicts with an existing user, group or link"
    except DataError:
        db.session.rollback()
        return None, "a value the database cannot store"


@contextmanager
def _input(path: str) -> Iterator[IO[str]]:
    if path == "-":
        yield sys.stdin
        return
    with open(path, encoding="utf-8-sig", newline="") as handle:
        yield handle


def _count_lines(path: str) -> int | None:
    if path == "-":
        return None
    with open(path, "rb") as handle:
        return sum(1 for line in handle if line.strip())


def _detect_format(path: str, fmt: str | None) -> str:
    if fmt:
        return fmt
    return "csv" if Path(path).suffix.lower() == ".csv" else "jsonl"


@click.command("import")
@click.argument("path", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]),
              help="Default: from the file name (.csv), else jsonl")
@click.option("--update", is_flag=True, help="Update users that exist (default: skip them)")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object")
@click.pass_context
@with_appcontext
def import_command(ctx: click.Context, path: str, fmt: str | None, update: bool,
                   as_json: bool) -> None:
    """Import users (JSON Lines or CSV); safe to re-run. Exit code 1 if a row failed."""
    settings, fmt = _settings(), _detect_format(path, fmt)
    counts: Counter[str] = Counter()
    errors: list[dict[str, Any]] = []
    length = _count_lines(path)
    with _input(path) as handle, \
            _progress(read_records(handle, fmt), length, "Importing") as rows:
        for number, record, error in rows:
            if error is None:
                outcome, error = import_one(settings, record, update)
            if error is not None:
                errors.append({"line": number, "email": _email_of(record), "error": error})
                click.echo(f"line {number}: {error}", err=True)
            else:
                counts[outcome] += 1
    record_event("users.imported", actor="cli", created=counts["created"],
                 updated=counts["updated"], skipped=counts["skipped"], failed=len(errors))
    db.session.commit()
    _report(counts, errors, as_json)
    ctx.exit(1 if errors else 0)


def _email_of(record: Any) -> str | None:
    email = record.get("email") if isinstance(record, dict) else None
    return email if isinstance(email, str) else None


def _report(counts: Counter, errors: list[dict], as_json: bool) -> None:
    summary = {"created": counts["created"], "updated": counts["updated"],
               "skipped": counts["skipped"], "failed": len(errors), "errors": errors}
    if as_json:
        click.echo(json.dumps(summary))
    else:
        click.echo(f"created {summary['created']}, updated {summary['updated']}, skipped "
                   f"{summary['skipped']}, failed {summary['failed']}")


# --- groups ---------------------------------------------------------------------------------


@click.group("groups")
def groups_group() -> None:
    """Groups: the `groups` claim lists a user's groups by precedence."""


def _fail(message: str):
    db.session.rollback()
    raise click.ClickException(message)


def _group_or_fail(name: str) -> Group:
    group = find_group(name)
    if group is None:
        _fail(f"no group named {name!r}")
    return group


def _user_or_fail(email: str) -> User:
    try:
        return require_user(email)
    except UserError as exc:
        _fail(str(exc))


def _describe(group: Group) -> dict[str, Any]:
    return {"name": group.name, "description": group.description,
            "precedence": group.precedence, "member_count": member_count(group)}


@groups_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def groups_list(as_json: bool) -> None:
    """List groups by precedence."""
    groups = db.session.scalars(db.select(Group).order_by(Group.precedence, Group.name)).all()
    if as_json:
        click.echo(json.dumps({"groups": [_describe(g) for g in groups]}))
        return
    for g in groups:
        click.echo(f"{g.precedence}\t{g.name}\t{member_count(g)} members\t{g.description}")


@groups_group.command("create")
@click.argument("name")
@click.option("--description", default="")
@click.option("--precedence", default=0, type=int, show_default=True,
              help="Lower comes first in the groups claim")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def groups_create(name: str, description: str, precedence: int, as_json: bool) -> None:
    """Create a group."""
    try:
        group = create_group(name, description, precedence)
        db.session.flush()
        record_event("group.created", actor="cli", group=name)
        db.session.commit()
    except GroupError as exc:
        _fail(str(exc))
    click.echo(json.dumps(_describe(group)) if as_json else f"created group {name}")


@groups_group.command("update")
@click.argument("name")
@click.option("--rename", help="New name")
@click.option("--description")
@click.option("--precedence", type=int)
@with_appcontext
def groups_update(name: str, rename: str | None, description: str | None,
                  precedence: int | None) -> None:
    """Rename a group or change its description or precedence."""
    group = _group_or_fail(name)
    try:
        update_group(group, name=rename, description=description, precedence=precedence)
        record_event("group.updated", actor="cli", group=group.name, previous_name=name)
        db.session.commit()
    except GroupError as exc:
        _fail(str(exc))
    click.echo(f"updated group {group.name}", err=True)


@groups_group.command("delete")
@click.argument("name")
@with_appcontext
def groups_delete(name: str) -> None:
    """Delete a group (its members stay)."""
    delete_group(_group_or_fail(name))
    record_event("group.deleted", actor="cli", group=name)
    db.session.commit()
    click.echo(f"deleted group {name}", err=True)


@groups_group.command("add-member")
@click.argument("name")
@click.argument("email")
@with_appcontext
def groups_add_member(name: str, email: str) -> None:
    """Add a user (by e-mail) to a group."""
    group, user = _group_or_fail(name), _user_or_fail(email)
    if add_member(group, user):
        record_event("group.member_added", actor="cli", user_id=user.id, group=name)
    db.session.commit()
    click.echo(f"{user.email} is in {name}", err=True)


@groups_group.command("remove-member")
@click.argument("name")
@click.argument("email")
@with_appcontext
def groups_remove_member(name: str, email: str) -> None:
    """Remove a user (by e-mail) from a group."""
    group, user = _group_or_fail(name), _user_or_fail(email)
    if remove_member(group, user):
        record_event("group.member_removed", actor="cli", user_id=user.id, group=name)
    db.session.commit()
    click.echo(f"{user.email} is not in {name}", err=True)
