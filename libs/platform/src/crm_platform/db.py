"""PostgreSQL through asyncpg: the pool every service uses and its migrations.

Migrations are Alembic revisions of plain SQL kept in each service's package
(`crm_<svc>/migrations/versions`); the Alembic environment is shared from here
so a service holds only its revisions. Applying them takes an advisory lock,
so replicas starting together do not race.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit, urlunsplit

import asyncpg

# Errors that mean "the database is not reachable now", not "this input is bad".
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    OSError,
    ConnectionError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.InterfaceError,
    # A pooled connection the server dropped while the client was still reading from
    # it (PostgreSQL stopping) answers its next statement with "cannot switch to state
    # ...; another operation is in progress"; the pool's release reset then drops it.
    asyncpg.exceptions.InternalClientError,
)


def _jsonb_encode(value: object) -> bytes:
    return b"\x01" + json.dumps(value, separators=(",", ":")).encode()


def _jsonb_decode(data: bytes) -> object:
    return json.loads(data[1:])


async def init_connection(conn: asyncpg.Connection) -> None:
    """jsonb as Python values, in the binary format so COPY can write it."""
    await conn.set_type_codec("jsonb", encoder=_jsonb_encode, decoder=_jsonb_decode,
                              schema="pg_catalog", format="binary")
    await conn.set_type_codec("json", encoder=json.dumps, decoder=json.loads,
                              schema="pg_catalog")


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    return await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size,
                                     init=init_connection, command_timeout=30)


def unnest_columns(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    """Rows as one list per column: the arrays a batch statement unnests
    (`... FROM unnest($1::bigint[], $2::text[], ...)`), one round trip for many rows."""
    return [[row[i] for row in rows] for i in range(width)]


def _with_database(dsn: str, database: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path="/" + database))


async def ensure_database(dsn: str) -> None:
    """Create the database named in the DSN if the server lacks it (local and tests;
    in Kubernetes the operator creates it and this finds it there)."""
    name = urlsplit(dsn).path.lstrip("/")
    conn = await asyncpg.connect(_with_database(dsn, "postgres"))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            try:
                await conn.execute(f'CREATE DATABASE "{name}"')
            except asyncpg.exceptions.DuplicateDatabaseError:
                pass
    finally:
        await conn.close()


def sqlalchemy_url(dsn: str) -> str:
    """The psycopg URL of an asyncpg DSN. A Unix-socket directory given as the host,
    percent-encoded (postgresql://user@%2Frun%2Fpostgresql:5432/db, which asyncpg reads),
    moves to the query (?host=/run/postgresql&port=5432), the form psycopg reads."""
    scheme, _, rest = dsn.partition("://")
    netloc, _, path = rest.partition("/")
    user, at, host_port = netloc.rpartition("@")
    host, colon, port = host_port.rpartition(":") if ":" in host_port else (host_port, "", "")
    if not unquote(host).startswith("/"):
        return dsn.replace("postgresql://", "postgresql+psycopg://", 1)
    database, _, query = path.partition("?")
    socket = [("host", unquote(host))] + ([("port", port)] if colon else [])
    query = "&".join(filter(None, [query, urlencode(socket)]))
    return f"postgresql+psycopg://{user}{at}/{database}?{query}"


def migrate(dsn: str, versions_dir: Path) -> None:
    """Apply every Alembic revision in versions_dir (synchronous: run it in a thread)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "crm_platform:alembic_env")
    config.set_main_option("version_locations", str(versions_dir))
    config.set_main_option("path_separator", "os")
    config.attributes["dsn"] = sqlalchemy_url(dsn)
    # "heads": each area of a service (records, identity, ...) keeps its own
    # branch of revisions off the shared base, so parallel work never forks one chain.
    command.upgrade(config, "heads")


async def migrate_async(dsn: str, versions_dir: Path) -> None:
    import asyncio

    await ensure_database(dsn)
    await asyncio.to_thread(migrate, dsn, versions_dir)
