"""Seed many users and refresh tokens fast, for the scale scenario.

    python -m bench.seed --database-url postgresql+psycopg://postgres@127.0.0.1:5432/DB \\
        --users 1000000 --refresh-tokens 1000000 --client-id bench-web

PostgreSQL: COPY in binary-free text format, with the secondary indexes dropped during the load
and rebuilt after (one sort instead of a million random B-tree inserts) and foreign-key
triggers off for the session (`session_replication_role = replica`; the rows are consistent by
construction). SQLite: executemany in batches. Every user gets the same argon2id hash of
--password, so any seeded e-mail logs in; refresh tokens are `sha256("seed-rt-<n>")`, so a
script can present token n as the plain text "seed-rt-<n>".
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import secrets
import sqlite3
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher, Type

USER_COLUMNS = ("id", "email", "email_verified", "password_hash", "status", "attributes",
                "totp_enabled", "recovery_code_hashes", "created_at", "updated_at")
TOKEN_COLUMNS = ("token_hash", "family_id", "client_id", "user_id", "scope", "auth_time", "amr",
                 "issued_at", "expires_at", "revoked")
# Rebuilt after the load; names and definitions as in migrations/versions/0001.
INDEXES = {
    "uq_users_email_lower": "CREATE UNIQUE INDEX uq_users_email_lower ON users (lower(email))",
    "ix_refresh_tokens_family_id":
        "CREATE INDEX ix_refresh_tokens_family_id ON refresh_tokens (family_id)",
    "ix_refresh_tokens_user_id":
        "CREATE INDEX ix_refresh_tokens_user_id ON refresh_tokens (user_id)",
    "ix_refresh_tokens_code_hash":
        "CREATE INDEX ix_refresh_tokens_code_hash ON refresh_tokens (code_hash)",
}


def email_for(n: int, start: int = 0) -> str:
    return f"seed{start + n}@bench.example"


def refresh_token_for(n: int, start: int = 0) -> str:
    return f"seed-rt-{start + n}"


def password_hash(password: str) -> str:
    hasher = PasswordHasher(
        memory_cost=int(os.environ.get("FRONTDESK_ARGON2_MEMORY_KIB", 19456)),
        time_cost=int(os.environ.get("FRONTDESK_ARGON2_TIME_COST", 2)),
        parallelism=int(os.environ.get("FRONTDESK_ARGON2_PARALLELISM", 1)), type=Type.ID)
    return hasher.hash(password)


def user_rows(ids: list[str], start: int, hashed: str, now: str) -> Iterator[tuple]:
    for n, user_id in enumerate(ids):
        yield (user_id, email_for(n, start), True, hashed, "enabled",
               json.dumps({"name": f"Seed {start + n}"}), False, "[]", now, now)


def sqlite_stamp(moment: datetime) -> str:
    """SQLAlchemy's storage format for DateTime on SQLite (naive UTC)."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def token_rows(count: int, start: int, client_id: str, ids: list[str], now: datetime,
               ttl_seconds: int, stamp=datetime.isoformat) -> Iterator[tuple]:
    rng = random.Random(start)  # noqa: S311 - spreading rows, not secrets
    expires = stamp(now + timedelta(seconds=ttl_seconds))
    issued = stamp(now)
    for n in range(count):
        token_hash = hashlib.sha256(refresh_token_for(n, start).encode()).hexdigest()
        yield (token_hash, secrets.token_hex(16), client_id, rng.choice(ids),
               "openid email profile offline_access", int(now.timestamp()), "pwd", issued,
               expires, False)


def _copy_text(rows: Iterator[tuple]) -> Iterator[bytes]:
    """Rows in COPY text format, ~1 MB per chunk (no value here holds tab, newline or '\\')."""
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(_copy_value(v) for v in row) + "\n")
        if buffer.tell() > 1 << 20:
            yield buffer.getvalue().encode()
            buffer = io.StringIO()
    yield buffer.getvalue().encode()


def _copy_value(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value)


def seed_postgres(url: str, users: int, tokens: int, client_id: str, password: str,
                  start: int, ttl_seconds: int) -> dict:
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://", 1)
    now = datetime.now(UTC)
    ids = [str(uuid.uuid4()) for _ in range(users)]
    timings = {}
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SET session_replication_role = replica")  # no FK triggers during load
        existing = {r[0] for r in cur.execute(
            "SELECT indexname FROM pg_indexes WHERE indexname = ANY(%s)", [list(INDEXES)])}
        for name in existing:
            cur.execute(f'DROP INDEX "{name}"')
        started = time.monotonic()
        with cur.copy(f"COPY users ({', '.join(USER_COLUMNS)}) FROM STDIN") as copy:
            for chunk in _copy_text(user_rows(ids, start, password_hash(password),
                                              now.isoformat())):
                copy.write(chunk)
        timings["users_s"] = round(time.monotonic() - started, 1)
        started = time.monotonic()
        if tokens:
            with cur.copy(f"COPY refresh_tokens ({', '.join(TOKEN_COLUMNS)}) FROM STDIN") as copy:
                for chunk in _copy_text(token_rows(tokens, start, client_id, ids, now,
                                                   ttl_seconds)):
                    copy.write(chunk)
        timings["refresh_tokens_s"] = round(time.monotonic() - started, 1)
        started = time.monotonic()
        for name in existing:
            cur.execute(INDEXES[name])
        cur.execute("ANALYZE users")
        cur.execute("ANALYZE refresh_tokens")
        timings["indexes_s"] = round(time.monotonic() - started, 1)
    return timings


def seed_sqlite(url: str, users: int, tokens: int, client_id: str, password: str,
                start: int, ttl_seconds: int) -> dict:
    path = url.removeprefix("sqlite:///")
    now = datetime.now(UTC)
    ids = [str(uuid.uuid4()) for _ in range(users)]
    started = time.monotonic()
    conn = sqlite3.connect(path, timeout=30)
    with conn:
        conn.executemany(
            f"INSERT INTO users ({', '.join(USER_COLUMNS)}) VALUES "
            f"({', '.join('?' * len(USER_COLUMNS))})",
            user_rows(ids, start, password_hash(password), sqlite_stamp(now)))
        conn.executemany(
            f"INSERT INTO refresh_tokens ({', '.join(TOKEN_COLUMNS)}) VALUES "
            f"({', '.join('?' * len(TOKEN_COLUMNS))})",
            token_rows(tokens, start, client_id, ids, now, ttl_seconds, sqlite_stamp))
    conn.close()
    return {"total_s": round(time.monotonic() - started, 1)}


def seed(url: str, users: int, tokens: int = 0, client_id: str = "bench-web",
         password: str = "bench-Password-1", start: int = 0,  # noqa: S107
         ttl_seconds: int = 30 * 86400) -> dict:
    """Insert `users` users (seed<start..>@bench.example) and `tokens` refresh tokens."""
    if tokens and not users:
        raise ValueError("refresh tokens need seeded users to belong to")
    if url.startswith("postgresql"):
        timings = seed_postgres(url, users, tokens, client_id, password, start, ttl_seconds)
    elif url.startswith("sqlite:///"):
        timings = seed_sqlite(url, users, tokens, client_id, password, start, ttl_seconds)
    else:
        raise ValueError("only postgresql+psycopg:// and sqlite:/// URLs are supported")
    return {"users": users, "refresh_tokens": tokens, **timings}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.seed", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("FRONTDESK_DATABASE_URL"),
                        help="default $FRONTDESK_DATABASE_URL (migrated, with the client)")
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--refresh-tokens", type=int, default=0)
    parser.add_argument("--client-id", default="bench-web",
                        help="existing client the refresh tokens belong to")
    parser.add_argument("--password", default="bench-Password-1")
    parser.add_argument("--start", type=int, default=0, help="first seed number (to add more)")
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("--database-url or FRONTDESK_DATABASE_URL is required")
    result = seed(args.database_url, args.users, args.refresh_tokens, args.client_id,
                  args.password, args.start)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
