"""PostgreSQL: one asyncpg pool per service, confined to the service's own schema, and the
versioned migrations (yoyo) that build each schema."""
import contextlib
import json
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import psycopg
from psycopg import sql
from yoyo import get_backend, read_migrations

from shared.postgres import CONNECT_TIMEOUT_SECONDS, connect
from shared.roles import ensure_role, grant_own_schema

SHARED_MIGRATIONS = Path(__file__).parent / "migrations"


async def _init_connection(conn: asyncpg.Connection) -> None:
    for json_type in ("json", "jsonb"):
        await conn.set_type_codec(json_type, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _keep_session(conn: asyncpg.Connection) -> None:
    """What a connection given back to the pool needs beyond asyncpg's own rollback of an open
    transaction: nothing. asyncpg's default reset is one more round trip per unit of work
    (`pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`), and linli leaves none of that
    behind: its advisory locks end with their transaction, its cursors too, its one LISTEN is on a
    connection of its own (reporting's live.py), and it sets nothing on a session."""


async def create_pool(database_url: str, schema: str, max_size: int = 10) -> asyncpg.Pool:
    """A pool whose connections see only `schema` (plus pg_catalog): SQL names stay unqualified."""
    return await asyncpg.create_pool(
        database_url, min_size=1, max_size=max_size, init=_init_connection, reset=_keep_session,
        timeout=CONNECT_TIMEOUT_SECONDS, server_settings={"search_path": schema, "application_name": f"linli-{schema}"},
    )


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def ensure_database(database_url: str) -> None:
    """Create the database named in the URL if it does not exist yet."""
    name = urlsplit(database_url).path.lstrip("/")
    with connect(_with_database(database_url, "postgres"), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):  # another process was first
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(database_url: str) -> None:
    name = urlsplit(database_url).path.lstrip("/")
    with connect(_with_database(database_url, "postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def migrate(database_url: str, schema: str, migrations: Path, password: str | None = None,
            manage_roles: bool = True) -> None:
    """Apply the shared messaging tables and the service's own migrations to its schema, as the
    owner (`database_url`), then grant the service's role (shared/roles.py) what they made.

    yoyo keeps its history and lock inside the schema, so each service's migrations are its own.
    """
    ensure_database(database_url)
    with connect(database_url) as conn:  # one transaction, committed on leaving
        # Two replicas starting at once: IF NOT EXISTS alone lets both try, and one fails.
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"linli.schema:{schema}",))
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
    parts = urlsplit(database_url)
    yoyo_url = urlunsplit(parts._replace(scheme="postgresql+psycopg", query=f"schema={schema}"))
    backend = get_backend(yoyo_url)
    with backend.lock():
        backend.apply_migrations(backend.to_apply(read_migrations(str(SHARED_MIGRATIONS), str(migrations))))
    if manage_roles:
        ensure_role(database_url, _with_database(database_url, "postgres"), schema, password)
    else:
        grant_own_schema(database_url, schema)
