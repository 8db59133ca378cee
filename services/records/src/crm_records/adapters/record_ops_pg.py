"""PostgreSQL for merge, restore and GDPR deletion (handlers.merge.RecordOpsStore):
the record store plus the cross-table moves and erasures those need."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import asyncpg

from crm_records.adapters.postgres import PgRecordStore

# Tables holding a record's rows by (account_id, object_type, record_id): all erased by GDPR.
_PER_RECORD_TABLES = ("property_history", "unique_values", "rollup_progress",
                      "health_score_applied")


class PgRecordOpsStore(PgRecordStore):
    async def move_associations(self, account_id: int, object_type: str, from_id: int,
                                to_id: int) -> int:
        """Both directions of every association of `from_id` now start or end at `to_id`
        (a pair the primary already has is kept once); the count moved."""
        moved = 0
        for side, other in (("from", "to"), ("to", "from")):
            rows = await self.conn.fetch(
                f"DELETE FROM associations WHERE account_id = $1 AND {side}_type = $2"
                f" AND {side}_id = $3 RETURNING *", account_id, object_type, from_id)
            await self.conn.executemany(
                "INSERT INTO associations (account_id, from_type, from_id, to_type, to_id,"
                " type_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
                [(account_id, r["from_type"], to_id if side == "from" else r["from_id"],
                  r["to_type"], to_id if side == "to" else r["to_id"], r["type_id"],
                  r["created_at"]) for r in rows
                 if not (r[f"{other}_type"] == object_type and r[f"{other}_id"] == to_id)])
            moved += len(rows)
        return moved

    async def forward_merged(self, account_id: int, object_type: str, from_id: int,
                             to_id: int) -> None:
        await self.conn.execute(
            "UPDATE records SET merged_into = $4 WHERE account_id = $1 AND object_type = $2"
            " AND merged_into = $3", account_id, object_type, from_id, to_id)

    async def find_ids_by_property(self, account_id: int, object_type: str, name: str,
                                   value: str) -> list[int]:
        """Ids whose property `name` is `value` ("@merged_into": merged into that id)."""
        if name == "@merged_into":
            rows = await self.conn.fetch(
                "SELECT record_id FROM records WHERE account_id = $1 AND object_type = $2"
                " AND merged_into = $3", account_id, object_type, int(value))
        else:
            rows = await self.conn.fetch(
                "SELECT record_id FROM records WHERE account_id = $1 AND object_type = $2"
                " AND properties->>$3 = $4 AND merged_into IS NULL ORDER BY record_id",
                account_id, object_type, name, value)
        return [r["record_id"] for r in rows]

    async def erase(self, account_id: int, object_type: str, record_ids: Sequence[int]) -> None:
        ids = list(record_ids)
        for table in _PER_RECORD_TABLES:
            await self.conn.execute(
                f"DELETE FROM {table} WHERE account_id = $1 AND object_type = $2"
                " AND record_id = ANY($3::bigint[])", account_id, object_type, ids)
        await self.conn.execute(
            "DELETE FROM associations WHERE account_id = $1 AND ((from_type = $2"
            " AND from_id = ANY($3::bigint[])) OR (to_type = $2 AND to_id = ANY($3::bigint[])))",
            account_id, object_type, ids)
        await self.conn.execute(
            "DELETE FROM records WHERE account_id = $1 AND object_type = $2"
            " AND record_id = ANY($3::bigint[])", account_id, object_type, ids)


class PgRecordOpsUnitOfWork:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[PgRecordOpsStore]:
        async with self.pool.acquire() as conn, conn.transaction():
            yield PgRecordOpsStore(conn)
