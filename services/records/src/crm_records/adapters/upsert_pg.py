"""What batch upsert needs beyond PgRecordStore: locking the unique values a batch
names until commit, and finding their live holders (`unique_values` holds only
live records: archiving releases a value)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import asyncpg

from crm_records.adapters.postgres import PgRecordStore


class PgUpsertStore(PgRecordStore):
    async def lock_unique_values(self, account_id: int, object_type: str,
                                 pairs: Sequence[tuple[str, str]]) -> None:
        # In one order, so two batches naming the same values never deadlock.
        keys = sorted({f"{object_type}\x1f{name}\x1f{value}" for name, value in pairs})
        await self.conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(k, $1))"
            " FROM (SELECT k FROM unnest($2::text[]) AS k ORDER BY k) AS ordered",
            account_id, keys)

    async def unique_holders(self, account_id: int, object_type: str,
                             pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
        if not pairs:
            return {}
        rows = await self.conn.fetch(
            "SELECT property, value, record_id FROM unique_values WHERE account_id = $1"
            " AND object_type = $2 AND (property, value) IN"
            " (SELECT * FROM unnest($3::text[], $4::text[]))",
            account_id, object_type, [p[0] for p in pairs], [p[1] for p in pairs])
        return {(r["property"], r["value"]): r["record_id"] for r in rows}


class UpsertUnitOfWork:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[PgUpsertStore]:
        async with self.pool.acquire() as conn, conn.transaction():
            yield PgUpsertStore(conn)
