"""Associations, association types, the email address index, roll-up progress and
the timeline in PostgreSQL (tables of migration 0020).

`AssociationUnitOfWork` opens one transaction and hands out, on that one
connection, the association store and a RecordsHandler, so a record created
with its associations, or an automation write, stores everything and every
event (outbox) together (R-BUS-2). The consumers' handlers (`rollup_events`,
`deal_automation_events`) run the same way on the consumer's connection.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import asyncpg

from crm_contracts.envelope import CloudEvent
from crm_platform.identity.principal import Principal
from crm_platform.outbox import OutgoingEvent, enqueue
from crm_records.adapters.postgres import OUTBOX_CHANNEL, PgRecordStore, _record, publish
from crm_records.domain.associations import USER_DEFINED, AssociationType
from crm_records.domain.object_types import ENGAGEMENT_TYPES
from crm_records.domain.record import Record
from crm_records.handlers import automation
from crm_records.handlers.associations import AssociationSession, Row
from crm_records.handlers.automation import AutomationSession
from crm_records.handlers.records import RecordsHandler
from crm_records.handlers.visibility import list_predicate

ENGAGEMENTS = sorted(ENGAGEMENT_TYPES)


def _type_of(row: asyncpg.Record) -> AssociationType:
    return AssociationType(row["type_id"], row["from_type"], row["to_type"], row["inverse_id"],
                           USER_DEFINED, row["label"], name=row["name"])


class PgAssociationStore:
    """Every method runs on the one connection (and transaction) it was given; with
    `outbox`, events are collected there (see PgRecordStore)."""

    def __init__(self, conn: asyncpg.Connection,
                 outbox: list[OutgoingEvent] | None = None) -> None:
        self.conn = conn
        self.outbox = outbox

    async def publish(self, events: Sequence[OutgoingEvent]) -> None:
        await publish(self.conn, self.outbox, events)

    async def existing_ids(self, account_id: int, object_type: str,
                           record_ids: Sequence[int], *,
                           viewer: Principal | None = None) -> set[int]:
        """The live ids among record_ids, and of those only what `viewer` may see (R-AUTH-3)."""
        scope = list_predicate(viewer, object_type, first_param=4)
        rows = await self.conn.fetch(  # a probe per id: see PgRecordStore.get_many
            "SELECT r.record_id FROM unnest($3::bigint[]) AS k(id) CROSS JOIN LATERAL ("
            " SELECT * FROM records WHERE account_id = $1 AND object_type = $2"
            " AND record_id = k.id OFFSET 0) AS r"
            " WHERE NOT r.archived AND r.merged_into IS NULL"
            + (f" AND {scope[0]}" if scope else ""),
            account_id, object_type, sorted(set(record_ids)), *(scope[1] if scope else ()))
        return {r["record_id"] for r in rows}

    # ---- types

    async def account_types(self, account_id: int) -> list[AssociationType]:
        rows = await self.conn.fetch(
            "SELECT * FROM association_types WHERE account_id = $1 AND NOT archived",
            account_id)
        return [_type_of(r) for r in rows]

    async def allocate_type_ids(self, count: int) -> list[int]:
        rows = await self.conn.fetch(
            "SELECT nextval('association_type_ids')::int AS id FROM generate_series(1, $1)",
            count)
        return [r["id"] for r in rows]

    async def add_account_types(self, account_id: int,
                                types: Sequence[AssociationType]) -> None:
        # A concurrent first use may have made the pair's default: the unique index keeps one.
        await self.conn.executemany(
            "INSERT INTO association_types (account_id, type_id, from_type, to_type,"
            " inverse_id, label, name) VALUES ($1, $2, $3, $4, $5, $6, $7)"
            " ON CONFLICT DO NOTHING",
            [(account_id, t.type_id, t.from_type, t.to_type, t.inverse_id, t.label, t.name)
             for t in types])

    # ---- associations

    async def types_between(self, account_id: int, from_type: str, from_id: int,
                            to_type: str, to_id: int) -> set[int]:
        rows = await self.conn.fetch(
            "SELECT type_id FROM associations WHERE account_id = $1 AND from_type = $2"
            " AND from_id = $3 AND to_type = $4 AND to_id = $5",
            account_id, from_type, from_id, to_type, to_id)
        return {r["type_id"] for r in rows}

    async def insert(self, account_id: int, rows: Sequence[Row], at: datetime) -> None:
        await self.conn.executemany(
            "INSERT INTO associations (account_id, from_type, from_id, to_type, to_id, type_id,"
            " created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
            [(account_id, *row, at) for row in rows])

    async def delete(self, account_id: int, rows: Sequence[Row]) -> None:
        await self.conn.executemany(
            "DELETE FROM associations WHERE account_id = $1 AND from_type = $2"
            " AND from_id = $3 AND to_type = $4 AND to_id = $5 AND type_id = $6",
            [(account_id, *row) for row in rows])

    async def associated(self, account_id: int, from_type: str, from_ids: Sequence[int],
                         to_type: str, *, after: int = 0, limit: int | None = None,
                         viewer: Principal | None = None) -> dict[int, dict[int, set[int]]]:
        """Associated to ids above `after` (ascending; at most `limit` ids per from id).

        R-AUTH-3: records `viewer` may not see are left out inside the query, so a
        page is full of what they may see and the cursor skips nothing."""
        scope = list_predicate(viewer, to_type, first_param=6, records_alias="r")
        rows = await self.conn.fetch(
            "SELECT from_id, to_id, array_agg(type_id) AS type_ids FROM associations a"
            " WHERE account_id = $1 AND from_type = $2 AND from_id = ANY($3::bigint[])"
            " AND to_type = $4 AND to_id > $5 AND EXISTS (SELECT 1 FROM records r"
            "   WHERE r.account_id = a.account_id AND r.object_type = a.to_type"
            "   AND r.record_id = a.to_id AND NOT r.archived"
            + (f" AND {scope[0]}" if scope else "") + ")"
            " GROUP BY from_id, to_id ORDER BY from_id, to_id",
            account_id, from_type, list(from_ids), to_type, after, *(scope[1] if scope else ()))
        out: dict[int, dict[int, set[int]]] = {}
        for row in rows:
            held = out.setdefault(row["from_id"], {})
            if limit is None or len(held) < limit:
                held[row["to_id"]] = set(row["type_ids"])
        return out

    async def primary_of(self, account_id: int, owner_type: str, owner_id: int,
                         primary_type_id: int) -> int | None:
        return await self.conn.fetchval(
            "SELECT to_id FROM associations WHERE account_id = $1 AND from_type = $2"
            " AND from_id = $3 AND to_type = 'companies' AND type_id = $4 LIMIT 1",
            account_id, owner_type, owner_id, primary_type_id)

    async def engagement_count(self, account_id: int, object_type: str,
                               record_id: int) -> int:
        return await self.conn.fetchval(
            "SELECT count(DISTINCT (to_type, to_id)) FROM associations WHERE account_id = $1"
            " AND from_type = $2 AND from_id = $3 AND to_type = ANY($4::text[])",
            account_id, object_type, record_id, ENGAGEMENTS)

    async def lock_record(self, account_id: int, object_type: str, record_id: int) -> None:
        """Serialises engagement associations to one record, so the cap holds (R-REC-7)."""
        await self.conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 7))",
                                f"{account_id}:{object_type}:{record_id}")

    # ---- timeline (handlers.engagements.TimelineStore)

    async def get_record(self, account_id: int, object_type: str,
                         record_id: int) -> Record | None:
        found = await self.get_records(account_id, object_type, [record_id])
        record = found.get(record_id)
        return None if record is None or record.archived or record.merged_into else record

    async def associated_engagements(self, account_id: int, object_type: str,
                                     record_id: int) -> list[Record]:
        rows = await self.conn.fetch(
            "SELECT r.* FROM records r JOIN (SELECT DISTINCT to_type, to_id FROM associations"
            "   WHERE account_id = $1 AND from_type = $2 AND from_id = $3"
            "   AND to_type = ANY($4::text[])) a"
            " ON r.object_type = a.to_type AND r.record_id = a.to_id"
            " WHERE r.account_id = $1 AND NOT r.archived",
            account_id, object_type, record_id, ENGAGEMENTS)
        return [_record(r) for r in rows]

    async def emails_logged_to(self, account_id: int,
                               addresses: Sequence[str]) -> list[Record]:
        rows = await self.conn.fetch(
            "SELECT r.* FROM records r WHERE r.account_id = $1 AND r.object_type = 'emails'"
            " AND NOT r.archived AND r.record_id IN (SELECT email_id FROM email_participants"
            "   WHERE account_id = $1 AND address = ANY($2::text[]))",
            account_id, list(addresses))
        return [_record(r) for r in rows]

    # ---- automation (handlers.automation.AutomationStore)

    async def get_records(self, account_id: int, object_type: str,
                          record_ids: Sequence[int]) -> dict[int, Record]:
        return await PgRecordStore(self.conn).get_many(account_id, object_type, record_ids)

    async def associated_ids(self, account_id: int, from_type: str, from_id: int,
                             to_types: Sequence[str] | None = None) -> list[tuple[str, int]]:
        rows = await self.conn.fetch(
            "SELECT DISTINCT to_type, to_id FROM associations WHERE account_id = $1"
            " AND from_type = $2 AND from_id = $3"
            " AND ($4::text[] IS NULL OR to_type = ANY($4::text[])) ORDER BY to_type, to_id",
            account_id, from_type, from_id, list(to_types) if to_types is not None else None)
        return [(r["to_type"], r["to_id"]) for r in rows]

    async def associated_ids_of(self, account_id: int, from_type: str,
                                from_ids: Sequence[int]) -> dict[int, list[tuple[str, int]]]:
        rows = await self.conn.fetch(  # a probe per id: see PgRecordStore.get_many
            "SELECT DISTINCT a.from_id, a.to_type, a.to_id FROM unnest($3::bigint[]) AS k(id)"
            " CROSS JOIN LATERAL (SELECT from_id, to_type, to_id FROM associations"
            "   WHERE account_id = $1 AND from_type = $2 AND from_id = k.id OFFSET 0) AS a"
            " ORDER BY a.from_id, a.to_type, a.to_id",
            account_id, from_type, sorted(set(from_ids)))
        found: dict[int, list[tuple[str, int]]] = {}
        for r in rows:
            found.setdefault(r["from_id"], []).append((r["to_type"], r["to_id"]))
        return found

    async def mark_rollups(self, account_id: int, object_type: str, record_ids: Sequence[int],
                           rollups: Sequence[str], at: datetime) -> None:
        # In key order, so two consumers stamping the same records cannot deadlock.
        await self.conn.execute(
            "INSERT INTO rollup_progress (account_id, object_type, record_id, rollup,"
            " updated_at) SELECT $1, $2, i, r, $5 FROM unnest($3::bigint[]) AS i,"
            " unnest($4::text[]) AS r ORDER BY i, r ON CONFLICT (account_id, object_type,"
            " record_id, rollup) DO UPDATE SET updated_at = GREATEST("
            " rollup_progress.updated_at, EXCLUDED.updated_at)",
            account_id, object_type, sorted(record_ids), sorted(rollups), at)

    async def rollups_updated_at(self, account_id: int, object_type: str,
                                 record_id: int) -> dict[str, datetime]:
        rows = await self.conn.fetch(
            "SELECT rollup, updated_at FROM rollup_progress WHERE account_id = $1"
            " AND object_type = $2 AND record_id = $3", account_id, object_type, record_id)
        return {r["rollup"]: r["updated_at"] for r in rows}


def _same_transaction(store: PgRecordStore):  # type: ignore[no-untyped-def]
    @asynccontextmanager
    async def unit_of_work() -> AsyncIterator[PgRecordStore]:
        yield store

    return unit_of_work


class AssociationUnitOfWork:
    """`async with uow() as session:` one transaction for associations and record writes."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[AssociationSession]:
        # The record's and the associations' events are queued together, in the order
        # published, once the use case is done: one outbox INSERT and one NOTIFY.
        outbox: list[OutgoingEvent] = []
        async with self.pool.acquire() as conn, conn.transaction():
            yield AssociationSession(
                PgAssociationStore(conn, outbox),
                RecordsHandler(_same_transaction(PgRecordStore(conn, outbox))))
            await enqueue(conn, outbox, channel=OUTBOX_CHANNEL)


class ReadOnlyUnitOfWork:
    """Reads (timeline, roll-up progress) on a pooled connection."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[PgAssociationStore]:
        async with self.pool.acquire() as conn:
            yield PgAssociationStore(conn)


def _session(conn: asyncpg.Connection) -> AutomationSession:
    return AutomationSession(PgAssociationStore(conn),
                             RecordsHandler(_same_transaction(PgRecordStore(conn))))


async def rollup_events(conn: asyncpg.Connection, events: list[CloudEvent]) -> None:
    """Consumer handler (R-ROLL-1/2): record and association events -> roll-ups."""
    await automation.apply_rollup_events(_session(conn), events, datetime.now(UTC))


async def deal_automation_events(conn: asyncpg.Connection, events: list[CloudEvent]) -> None:
    """Consumer handler (R-LIFE-4..6): deal and association events -> lifecycle stages."""
    await automation.apply_deal_events(_session(conn), events)
