"""The health-score consumer's store (handlers.health), on the consumer's connection
and transaction, with a RecordsHandler writing in that same transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime

import asyncpg

from crm_contracts.envelope import CloudEvent
from crm_records.adapters.postgres import PgRecordStore
from crm_records.domain.record import Record
from crm_records.handlers.health import HealthSession, apply_health_events
from crm_records.handlers.records import RecordsHandler


class PgHealthStore(PgRecordStore):
    async def get_records(self, account_id: int, object_type: str,
                          record_ids: Sequence[int]) -> dict[int, Record]:
        return await self.get_many(account_id, object_type, record_ids)

    async def has_properties(self, account_id: int, object_type: str,
                             names: Sequence[str]) -> bool:
        count = await self.conn.fetchval(
            "SELECT count(*) FROM property_definitions WHERE account_id = $1"
            " AND object_type = $2 AND name = ANY($3::text[]) AND NOT archived",
            account_id, object_type, list(names))
        return count == len(names)

    async def advance_health_stamps(self, account_id: int, object_type: str,
                                    stamps: Mapping[int, datetime]) -> set[int]:
        if not stamps:
            return set()
        rows = await self.conn.fetch(
            "INSERT INTO health_score_applied (account_id, object_type, record_id, changed_at)"
            " SELECT $1, $2, unnest($3::bigint[]), unnest($4::timestamptz[])"
            " ON CONFLICT (account_id, object_type, record_id)"
            " DO UPDATE SET changed_at = EXCLUDED.changed_at"
            " WHERE health_score_applied.changed_at < EXCLUDED.changed_at RETURNING record_id",
            account_id, object_type, list(stamps), list(stamps.values()))
        return {row["record_id"] for row in rows}


async def health_score_events(conn: asyncpg.Connection, events: list[CloudEvent]) -> None:
    """Consumer handler: HealthScoreChanged -> health_score / health_status on the record."""
    store = PgHealthStore(conn)

    @asynccontextmanager
    async def same_transaction() -> AsyncIterator[PgRecordStore]:
        yield store

    await apply_health_events(HealthSession(store, RecordsHandler(same_transaction)), events)


