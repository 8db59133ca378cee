"""Custom object schemas in PostgreSQL (table object_schemas, migration 0050), on
the same connection as the record store (the property catalogue of a new type is
seeded in the schema's transaction)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from crm_records.adapters.postgres import PgRecordStore
from crm_records.domain.schemas import ObjectSchema
from crm_records.handlers.custom_objects import StoredSchema

_TUPLES = ("secondary_display_properties", "searchable_properties", "required_properties",
           "associated_objects")


def schema_of(data: dict[str, Any]) -> ObjectSchema:
    fields: dict[str, Any] = {k: tuple(v) if k in _TUPLES else v for k, v in data.items()}
    return ObjectSchema(**fields)


class PgSchemaStore(PgRecordStore):
    async def allocate_object_type_id(self) -> str:
        number = await self.conn.fetchval("SELECT nextval('custom_object_type_ids')")
        return f"2-{number}"

    async def schemas(self, account_id: int) -> list[StoredSchema]:
        rows = await self.conn.fetch(
            "SELECT definition, archived, created_at, updated_at FROM object_schemas"
            " WHERE account_id = $1 ORDER BY created_at, object_type_id", account_id)
        return [StoredSchema(schema_of(r["definition"]), r["created_at"], r["updated_at"],
                             r["archived"]) for r in rows]

    async def save_schema(self, account_id: int, stored: StoredSchema) -> None:
        schema = stored.schema
        await self.conn.execute(
            "INSERT INTO object_schemas (account_id, object_type_id, name, definition, archived,"
            " created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"
            " ON CONFLICT (account_id, object_type_id) DO UPDATE SET"
            " definition = EXCLUDED.definition, archived = EXCLUDED.archived,"
            " updated_at = EXCLUDED.updated_at",
            account_id, schema.object_type_id, schema.name, dataclasses.asdict(schema),
            stored.archived, stored.created_at, stored.updated_at)

    async def live_record_count(self, account_id: int, object_type: str) -> int:
        return await self.conn.fetchval(
            "SELECT count(*) FROM records WHERE account_id = $1 AND object_type = $2"
            " AND NOT archived", account_id, object_type)


class SchemaUnitOfWork:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[PgSchemaStore]:
        async with self.pool.acquire() as conn, conn.transaction():
            yield PgSchemaStore(conn)
