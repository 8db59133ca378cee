"""Records in PostgreSQL: one row per record (properties in jsonb), the property
history beside it, and the outbox, all written in the caller's transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime

import asyncpg

from crm_platform.outbox import OutgoingEvent, enqueue
from crm_records.domain.record import Record

OUTBOX_CHANNEL = "outbox_records"

_COLUMNS = ["account_id", "object_type", "record_id", "version", "properties", "archived",
            "archived_at", "merged_into", "created_at", "updated_at"]


def _row(record: Record) -> tuple:
    return (record.account_id, record.object_type, record.record_id, record.version,
            record.properties, record.archived, record.archived_at, record.merged_into,
            record.created_at, record.updated_at)


def _record(row: asyncpg.Record) -> Record:
    return Record(row["account_id"], row["object_type"], row["record_id"], row["version"],
                  row["properties"], row["created_at"], row["updated_at"], row["archived"],
                  row["archived_at"], row["merged_into"])


class PgRecordStore:
    """Every method runs on the one connection (and transaction) it was given."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def allocate_ids(self, count: int) -> list[int]:
        rows = await self.conn.fetch(
            "SELECT nextval('record_ids') AS id FROM generate_series(1, $1)", count)
        return [r["id"] for r in rows]

    async def insert(self, records: Sequence[Record]) -> None:
        await self.conn.copy_records_to_table("records", records=[_row(r) for r in records],
                                              columns=_COLUMNS)

    async def save(self, records: Sequence[Record]) -> None:
        await self.conn.executemany(
            "UPDATE records SET version = $4, properties = $5, archived = $6, archived_at = $7,"
            " merged_into = $8, updated_at = $10"
            " WHERE account_id = $1 AND object_type = $2 AND record_id = $3",
            [_row(r) for r in records])

    async def get_many(self, account_id: int, object_type: str, record_ids: Sequence[int], *,
                       for_update: bool = False) -> dict[int, Record]:
        lock = " ORDER BY record_id FOR UPDATE" if for_update else ""
        rows = await self.conn.fetch(
            "SELECT * FROM records WHERE account_id = $1 AND object_type = $2"
            f" AND record_id = ANY($3::bigint[]){lock}", account_id, object_type, list(record_ids))
        return {r["record_id"]: _record(r) for r in rows}

    async def page(self, account_id: int, object_type: str, *, after: int, limit: int,
                   archived: bool) -> list[Record]:
        rows = await self.conn.fetch(
            "SELECT * FROM records WHERE account_id = $1 AND object_type = $2 AND archived = $3"
            " AND record_id > $4 ORDER BY record_id LIMIT $5",
            account_id, object_type, archived, after, limit)
        return [_record(r) for r in rows]

    async def append_history(self, records: Sequence[Record], *, source: str,
                             source_id: str | None, user_id: int | None,
                             at: datetime) -> None:
        rows = [(r.account_id, r.object_type, r.record_id, c.name, c.new_value, at, source,
                 source_id, user_id) for r in records for c in r.changes]
        if rows:
            await self.conn.copy_records_to_table(
                "property_history", records=rows,
                columns=["account_id", "object_type", "record_id", "property", "value",
                         "changed_at", "source_type", "source_id", "user_id"])

    async def history(self, account_id: int, object_type: str, record_ids: Sequence[int],
                      properties: Sequence[str]) -> dict[int, dict[str, list[asyncpg.Record]]]:
        rows = await self.conn.fetch(
            "SELECT record_id, property, value, changed_at, source_type, source_id, user_id"
            " FROM property_history WHERE account_id = $1 AND object_type = $2"
            " AND record_id = ANY($3::bigint[]) AND property = ANY($4::text[])"
            " ORDER BY record_id, property, seq DESC",
            account_id, object_type, list(record_ids), list(properties))
        out: dict[int, dict[str, list[asyncpg.Record]]] = {}
        for row in rows:
            out.setdefault(row["record_id"], {}).setdefault(row["property"], []).append(row)
        return out

    async def publish(self, events: Sequence[OutgoingEvent]) -> None:
        await enqueue(self.conn, events, channel=OUTBOX_CHANNEL)


class PgUnitOfWork:
    """One transaction per use case: `async with uow() as store: ...`."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[PgRecordStore]:
        async with self.pool.acquire() as conn, conn.transaction():
            yield PgRecordStore(conn)
