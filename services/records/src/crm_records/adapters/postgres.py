"""Records in PostgreSQL: one row per record (properties in jsonb), the property
history beside it, and the outbox, all written in the caller's transaction."""

from __future__ import annotations

import dataclasses
import functools
import json
from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from uuid import UUID

import asyncpg

from crm_platform.db import unnest_columns
from crm_platform.identity.principal import Principal
from crm_platform.outbox import OutgoingEvent, enqueue
from crm_records.adapters.email_index import index_email_participants
from crm_records.domain.pipelines import Pipeline, Stage
from crm_records.domain.properties import PropertyDefinition, PropertyGroup, PropertyOption
from crm_records.domain.record import Record
from crm_records.handlers.pipelines import StoredPipeline
from crm_records.handlers.properties import StoredProperty
from crm_records.handlers.visibility import list_predicate

OUTBOX_CHANNEL = "outbox_records"

_COLUMNS = ["account_id", "object_type", "record_id", "version", "properties", "archived",
            "archived_at", "merged_into", "created_at", "updated_at"]

_HISTORY_COLUMNS = ["account_id", "object_type", "record_id", "property", "value",
                    "changed_at", "source_type", "source_id", "user_id"]
FEW_ROWS = 20  # up to this many rows are INSERTed, more are COPied
# A few history rows in one statement: executemany ran one INSERT per row (7 a
# logged call, 16 of the ~45 statements records ran per call at 200 calls/s).
_HISTORY_INSERT_SQL = (
    f"INSERT INTO property_history ({', '.join(_HISTORY_COLUMNS)})"
    " SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::text[],"
    " $6::timestamptz[], $7::text[], $8::text[], $9::bigint[])")
# Many records' new state in one statement (a consumer's batch), not one UPDATE each.
_SAVE_SQL = """
UPDATE records AS r SET version = u.version, properties = u.properties::jsonb,
       archived = u.archived, archived_at = u.archived_at, merged_into = u.merged_into,
       updated_at = u.updated_at
FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::bool[],
            $7::timestamptz[], $8::bigint[], $9::timestamptz[])
     AS u(account_id, object_type, record_id, version, properties, archived, archived_at,
          merged_into, updated_at)
WHERE r.account_id = u.account_id AND r.object_type = u.object_type
  AND r.record_id = u.record_id
"""


def _row(record: Record) -> tuple:
    return (record.account_id, record.object_type, record.record_id, record.version,
            record.properties, record.archived, record.archived_at, record.merged_into,
            record.created_at, record.updated_at)


def _record(row: asyncpg.Record) -> Record:
    return Record(row["account_id"], row["object_type"], row["record_id"], row["version"],
                  row["properties"], row["created_at"], row["updated_at"], row["archived"],
                  row["archived_at"], row["merged_into"])


def definition_json(definition: PropertyDefinition) -> dict:
    return dataclasses.asdict(definition)


def definition_of(data: dict) -> PropertyDefinition:
    fields = {f.name for f in dataclasses.fields(PropertyDefinition)}
    known = {k: v for k, v in data.items() if k in fields}
    known["options"] = tuple(PropertyOption(**o) for o in data.get("options", ()))
    return PropertyDefinition(**known)


class CatalogCache:
    """The parsed property catalogues this process read last, each under the version it
    was read at. The version is read in the caller's transaction: a version read
    before the definitions can only label newer definitions, never older, so a stale
    entry is at worst read again. Bounded: the least recently used goes first."""

    def __init__(self, max_entries: int = 2048) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[int, str], tuple[UUID, tuple[StoredProperty, ...]]] = (
            OrderedDict())

    def get(self, account_id: int, object_type: str,
            version: UUID) -> tuple[StoredProperty, ...] | None:
        entry = self._entries.get((account_id, object_type))
        if entry is None or entry[0] != version:
            return None
        self._entries.move_to_end((account_id, object_type))
        return entry[1]

    def put(self, account_id: int, object_type: str, version: UUID,
            rows: tuple[StoredProperty, ...]) -> None:
        self._entries[(account_id, object_type)] = (version, rows)
        self._entries.move_to_end((account_id, object_type))
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)


_CATALOGS = CatalogCache()


@functools.lru_cache(maxsize=8192)
def _parsed_definition(stored: str) -> PropertyDefinition:
    """A stored definition's text -> its (immutable) definition; the same text, which
    most catalogue reads repeat, is parsed once."""
    return definition_of(json.loads(stored))


def pipeline_json(pipeline: Pipeline) -> dict:
    return dataclasses.asdict(pipeline)


def pipeline_of(data: dict) -> Pipeline:
    stages = tuple(Stage(**{**s, "required_properties": tuple(s["required_properties"])})
                   for s in data["stages"])
    return Pipeline(data["id"], data["label"], data["display_order"], stages)


async def publish(conn: asyncpg.Connection, outbox: list[OutgoingEvent] | None,
                  events: Sequence[OutgoingEvent]) -> None:
    """Queue events in the outbox now, or collect them in `outbox` for the unit of work
    to queue once at its end (the stores made with one)."""
    if outbox is not None:
        outbox.extend(events)
    else:
        await enqueue(conn, events, channel=OUTBOX_CHANNEL)


class PgRecordStore:
    """Every method runs on the one connection (and transaction) it was given. With
    `outbox`, events are collected there for the unit of work to queue once at its end
    (one INSERT and one NOTIFY per transaction instead of per publish)."""

    def __init__(self, conn: asyncpg.Connection,
                 outbox: list[OutgoingEvent] | None = None) -> None:
        self.conn = conn
        self.outbox = outbox

    async def allocate_ids(self, count: int) -> list[int]:
        rows = await self.conn.fetch(
            "SELECT nextval('record_ids') AS id FROM generate_series(1, $1)", count)
        return [r["id"] for r in rows]

    async def insert(self, records: Sequence[Record]) -> None:
        await self._write("records", _COLUMNS, [_row(r) for r in records])
        await index_email_participants(self.conn, records)  # R-REC-8

    async def _write(self, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
        """COPY for many rows; a few (a single create) as one INSERT, which costs this
        process and the server less than COPY's round trips and set-up."""
        if len(rows) > FEW_ROWS:
            await self.conn.copy_records_to_table(table, records=rows, columns=columns)
        elif rows:
            await self.conn.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES"
                f" ({', '.join(f'${i}' for i in range(1, len(columns) + 1))})", rows)

    async def save(self, records: Sequence[Record]) -> None:
        if records:
            await self.conn.execute(_SAVE_SQL, *unnest_columns([
                (r.account_id, r.object_type, r.record_id, r.version, json.dumps(r.properties),
                 r.archived, r.archived_at, r.merged_into, r.updated_at) for r in records], 9))
        await index_email_participants(self.conn, records)  # R-REC-8

    async def get_many(self, account_id: int, object_type: str, record_ids: Sequence[int], *,
                       for_update: bool = False) -> dict[int, Record]:
        # One index probe per id (ascending, so locks are taken in one order): with
        # `record_id = ANY($3)` PostgreSQL read a young account's whole range of the type
        # (its statistics say the account is tiny) and filtered it, ~20x the buffers.
        lock = "FOR UPDATE" if for_update else "OFFSET 0"  # either keeps the probe per id
        rows = await self.conn.fetch(
            "SELECT r.* FROM unnest($3::bigint[]) AS k(id) CROSS JOIN LATERAL ("
            " SELECT * FROM records WHERE account_id = $1 AND object_type = $2"
            f" AND record_id = k.id {lock}) AS r",
            account_id, object_type, sorted(set(record_ids)))
        return {r["record_id"]: _record(r) for r in rows}

    async def page(self, account_id: int, object_type: str, *, after: int, limit: int,
                   archived: bool, viewer: Principal | None = None) -> list[Record]:
        # R-AUTH-3: the viewer's scope is part of the query, so every page is full and
        # the cursor never skips what they may see. Merged-away records are no longer listed.
        scope = list_predicate(viewer, object_type, first_param=6)
        rows = await self.conn.fetch(
            "SELECT * FROM records WHERE account_id = $1 AND object_type = $2 AND archived = $3"
            " AND record_id > $4 AND merged_into IS NULL"
            + (f" AND {scope[0]}" if scope else "") + " ORDER BY record_id LIMIT $5",
            account_id, object_type, archived, after, limit, *(scope[1] if scope else ()))
        return [_record(r) for r in rows]

    async def append_history(self, records: Sequence[Record], *, source: str,
                             source_id: str | None, user_id: int | None, at: datetime,
                             source_ids: Mapping[int, str] | None = None) -> None:
        rows = [(r.account_id, r.object_type, r.record_id, c.name, c.new_value, at, source,
                 source_ids[r.record_id] if source_ids else source_id, user_id)
                for r in records for c in r.changes]
        if len(rows) > FEW_ROWS:
            await self.conn.copy_records_to_table("property_history", records=rows,
                                                  columns=_HISTORY_COLUMNS)
        elif rows:
            await self.conn.execute(_HISTORY_INSERT_SQL,
                                    *unnest_columns(rows, len(_HISTORY_COLUMNS)))

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

    async def record_history(self, account_id: int, object_type: str, record_id: int, *,
                             limit: int) -> list[asyncpg.Record]:
        """Every property change of one record, newest first (R-REC-4)."""
        return await self.conn.fetch(
            "SELECT property, value, changed_at, source_type, source_id, user_id"
            " FROM property_history WHERE account_id = $1 AND object_type = $2"
            " AND record_id = $3 ORDER BY seq DESC LIMIT $4",
            account_id, object_type, record_id, limit)

    async def publish(self, events: Sequence[OutgoingEvent]) -> None:
        await publish(self.conn, self.outbox, events)

    # ---- property catalogue (handlers.properties.CatalogStore)

    async def property_rows(self, account_id: int, object_type: str) -> list[StoredProperty]:
        # Every write reads its type's catalogue (a property created through the API is
        # usable at once, on any replica): its version first (migration 0053), the
        # definitions only when that version is not the one this process holds.
        version = await self.conn.fetchval(
            "SELECT version FROM property_catalog_versions"
            " WHERE account_id = $1 AND object_type = $2", account_id, object_type)
        if version is None:  # no definition was ever stored for the type
            return []
        cached = _CATALOGS.get(account_id, object_type, version)
        if cached is None:
            rows = await self.conn.fetch(
                "SELECT definition::text AS definition, created_at, updated_at, archived_at"
                " FROM property_definitions WHERE account_id = $1 AND object_type = $2",
                account_id, object_type)
            cached = tuple(StoredProperty(_parsed_definition(r["definition"]), r["created_at"],
                                          r["updated_at"], r["archived_at"]) for r in rows)
            _CATALOGS.put(account_id, object_type, version, cached)
        return list(cached)

    async def seed_catalog(self, account_id: int, object_type: str,
                           definitions: Sequence[PropertyDefinition],
                           groups: Sequence[PropertyGroup], at: datetime) -> bool:
        first = await self.conn.fetchval(
            "INSERT INTO property_catalogs (account_id, object_type) VALUES ($1, $2)"
            " ON CONFLICT DO NOTHING RETURNING true", account_id, object_type)
        if not first:
            return False
        await self.conn.executemany(
            "INSERT INTO property_definitions (account_id, object_type, name, definition,"
            " created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)",
            [(account_id, object_type, d.name, definition_json(d), at) for d in definitions])
        await self.conn.executemany(
            "INSERT INTO property_groups (account_id, object_type, name, label, display_order)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            [(account_id, object_type, g.name, g.label, g.display_order) for g in groups])
        return True

    async def save_property(self, account_id: int, object_type: str, stored: StoredProperty,
                            user_id: int | None) -> None:
        d = stored.definition
        await self.conn.execute(
            "INSERT INTO property_definitions (account_id, object_type, name, definition,"
            " archived, archived_at, created_at, updated_at, created_by, updated_by)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)"
            " ON CONFLICT (account_id, object_type, name) DO UPDATE SET"
            " definition = EXCLUDED.definition, archived = EXCLUDED.archived,"
            " archived_at = EXCLUDED.archived_at, updated_at = EXCLUDED.updated_at,"
            " updated_by = EXCLUDED.updated_by",
            account_id, object_type, d.name, definition_json(d), d.archived, stored.archived_at,
            stored.created_at, stored.updated_at, user_id)

    async def property_groups(self, account_id: int, object_type: str) -> list[PropertyGroup]:
        rows = await self.conn.fetch(
            "SELECT name, label, display_order FROM property_groups WHERE account_id = $1"
            " AND object_type = $2 AND NOT archived ORDER BY display_order, name",
            account_id, object_type)
        return [PropertyGroup(r["name"], r["label"], r["display_order"]) for r in rows]

    async def save_group(self, account_id: int, object_type: str, group: PropertyGroup,
                         archived: bool = False) -> None:
        await self.conn.execute(
            "INSERT INTO property_groups (account_id, object_type, name, label, display_order,"
            " archived) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (account_id, object_type,"
            " name) DO UPDATE SET label = EXCLUDED.label,"
            " display_order = EXCLUDED.display_order, archived = EXCLUDED.archived",
            account_id, object_type, group.name, group.label, group.display_order, archived)

    async def existing_user_ids(self, account_id: int, user_ids: Sequence[int]) -> set[int]:
        if not user_ids:
            return set()
        rows = await self.conn.fetch(
            "SELECT user_id FROM users WHERE account_id = $1 AND user_id = ANY($2::bigint[])",
            account_id, list(user_ids))
        return {r["user_id"] for r in rows}

    # ---- pipelines (handlers.pipelines.PipelineStore)

    async def pipeline_rows(self, account_id: int, object_type: str) -> list[StoredPipeline]:
        rows = await self.conn.fetch(
            "SELECT definition, archived, created_at, updated_at FROM pipelines"
            " WHERE account_id = $1 AND object_type = $2", account_id, object_type)
        return [StoredPipeline(pipeline_of(r["definition"]), r["created_at"], r["updated_at"],
                               r["archived"]) for r in rows]

    async def save_pipelines(self, account_id: int, object_type: str,
                             rows: Sequence[StoredPipeline]) -> None:
        await self.conn.executemany(
            "INSERT INTO pipelines (account_id, object_type, pipeline_id, definition, archived,"
            " created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"
            " ON CONFLICT (account_id, object_type, pipeline_id) DO UPDATE SET"
            " definition = EXCLUDED.definition, archived = EXCLUDED.archived,"
            " updated_at = EXCLUDED.updated_at",
            [(account_id, object_type, r.pipeline.id, pipeline_json(r.pipeline), r.archived,
              r.created_at, r.updated_at) for r in rows])

    # ---- unique values (R-REC-2): the table's primary key refuses a second holder

    async def claim_unique(self, account_id: int, object_type: str,
                           claims: Sequence[tuple[str, str, int]]) -> list[tuple[str, str, int]]:
        if not claims:
            return []
        names, values, ids = unnest_columns(claims, 3)
        rows = await self.conn.fetch(
            "WITH wanted AS (SELECT * FROM unnest($3::text[], $4::text[], $5::bigint[])"
            "   AS w(property, value, record_id)),"
            " taken AS (INSERT INTO unique_values (account_id, object_type, property, value,"
            "   record_id) SELECT $1, $2, property, value, record_id FROM wanted"
            "   ON CONFLICT DO NOTHING RETURNING property, value)"
            " SELECT w.property, w.value FROM wanted w"
            " WHERE NOT EXISTS (SELECT 1 FROM taken t WHERE t.property = w.property"
            "   AND t.value = w.value)",
            account_id, object_type, names, values, ids)
        if not rows:
            return []
        holders = await self.conn.fetch(
            "SELECT property, value, record_id FROM unique_values WHERE account_id = $1"
            " AND object_type = $2 AND (property, value) IN"
            " (SELECT * FROM unnest($3::text[], $4::text[]))",
            account_id, object_type, [r["property"] for r in rows], [r["value"] for r in rows])
        return [(h["property"], h["value"], h["record_id"]) for h in holders]

    async def release_unique(self, account_id: int, object_type: str,
                             releases: Sequence[tuple[str, str, int]]) -> None:
        if not releases:
            return
        names, values, ids = unnest_columns(releases, 3)
        await self.conn.execute(
            "DELETE FROM unique_values u USING unnest($3::text[], $4::text[], $5::bigint[])"
            "   AS r(property, value, record_id)"
            " WHERE u.account_id = $1 AND u.object_type = $2 AND u.property = r.property"
            " AND u.value = r.value AND u.record_id = r.record_id",
            account_id, object_type, names, values, ids)


class PgUnitOfWork:
    """One transaction per use case: `async with uow() as store: ...`."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[PgRecordStore]:
        async with self.pool.acquire() as conn, conn.transaction():
            yield PgRecordStore(conn)
