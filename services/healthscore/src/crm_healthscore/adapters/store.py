"""PostgreSQL access of the health score service (asyncpg; every function takes the
caller's connection so a consumer batch or a request is one transaction)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import orjson

from crm_healthscore.adapters.serialize import result_from_json, result_to_json
from crm_healthscore.domain.changes import ScoreChange, StoredScore
from crm_healthscore.domain.codec import profile_from_json
from crm_healthscore.domain.facts import Event
from crm_healthscore.domain.profile import Profile
from crm_healthscore.domain.scoring import ScoreResult
from crm_healthscore.domain.segments import Segment
from crm_healthscore.domain.snapshots import (
    Known,
    RecordKey,
    Snapshot,
    apply_in_order,
    newest_per_key,
)
from crm_healthscore.domain.standard_types import standard_types
from crm_platform.db import unnest_columns

DEFAULT_CUSTOMER_TYPE = "companies"
DEFAULT_CSM_PROPERTY = "hubspot_owner_id"


# ---- facts -------------------------------------------------------------------------


# What the records service writes back onto the customer from our own HealthScoreChanged
# (R-HLTH-2), with the modification stamps any write moves. A snapshot that differs only
# in these is stored but is no reason to score again: the score it reports is ours, and
# a recompute "now" would undo a score the operator's clock moved (R-HLTH-3) and loop
# score -> write-back -> score at scale.
SCORE_WRITE_BACK_PROPERTIES = ["health_score", "health_status", "hs_lastmodifieddate",
                               "lastmodifieddate"]


KNOWN_CUSTOMERS_SQL = """
SELECT c.account_id, c.object_type, c.record_id, c.version, c.gone,
       c.properties - $4::text[] AS inputs
FROM customers AS c
JOIN unnest($1::bigint[], $2::text[], $3::bigint[]) AS k(account_id, object_type, record_id)
  USING (account_id, object_type, record_id)
"""
SAVE_CUSTOMERS_SQL = """
INSERT INTO customers (account_id, object_type, record_id, version, gone, properties)
SELECT a, t, i, v, g, p::jsonb
FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::bool[], $6::text[])
     AS u(a, t, i, v, g, p)
ON CONFLICT (account_id, object_type, record_id) DO UPDATE
    SET version = EXCLUDED.version, gone = EXCLUDED.gone, properties = EXCLUDED.properties
    WHERE customers.version < EXCLUDED.version
"""


async def apply_customer_snapshots(conn: asyncpg.Connection,
                                   snapshots: Sequence[Snapshot]) -> list[int]:
    """Store each customer's newest snapshot (an older or repeated version changes
    nothing), one read and one write for the batch; the indexes of the snapshots that
    changed what can move a score, in batch order (domain.snapshots)."""
    if not snapshots:
        return []
    keys = sorted({s.key for s in snapshots})
    rows = await conn.fetch(KNOWN_CUSTOMERS_SQL, *unnest_columns(keys, 3),
                            SCORE_WRITE_BACK_PROPERTIES)
    known = {(r["account_id"], r["object_type"], r["record_id"]):
             Known(r["version"], r["gone"], r["inputs"]) for r in rows}
    newest, moved = apply_in_order(known, snapshots, SCORE_WRITE_BACK_PROPERTIES)
    if newest:
        saved = list(newest.values())
        await conn.execute(SAVE_CUSTOMERS_SQL, *unnest_columns([s.key for s in saved], 3),
                           [s.version for s in saved], [s.gone for s in saved],
                           [json.dumps(s.properties) for s in saved])
    return moved


async def upsert_customer(conn: asyncpg.Connection, account_id: int, object_type: str,
                          record_id: int, version: int, gone: bool,
                          properties: dict[str, Any]) -> bool:
    """One snapshot: True when it changed what can move a score."""
    return bool(await apply_customer_snapshots(
        conn, [Snapshot((account_id, object_type, record_id), version, gone, properties)]))


ActivitySnapshot = tuple[RecordKey, int, Event | None]  # key, version, its fact (None: gone)


async def apply_activity_snapshots(conn: asyncpg.Connection,
                                   snapshots: Sequence[ActivitySnapshot]) -> list[int]:
    """Store each activity's newest snapshot when it is newer than the stored one; the
    indexes (batch order) of the snapshots stored."""
    newest = newest_per_key([(key, version) for key, version, _ in snapshots])
    if not newest:
        return []
    chosen = sorted(newest.values())
    stored = [None if event is None else json.dumps({
        "id": event.id, "type": event.type, "occurred_at": event.occurred_at.isoformat(),
        "properties": dict(event.properties)}) for _, _, event in
        (snapshots[i] for i in chosen)]
    rows = await conn.fetch(
        """INSERT INTO activities (account_id, object_type, record_id, version, event)
           SELECT a, t, i, v, e::jsonb
           FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::text[])
                AS u(a, t, i, v, e)
           ON CONFLICT (account_id, object_type, record_id) DO UPDATE
               SET version = EXCLUDED.version, event = EXCLUDED.event
               WHERE activities.version < EXCLUDED.version
           RETURNING account_id, object_type, record_id""",
        *unnest_columns([snapshots[i][0] for i in chosen], 3), [snapshots[i][1] for i in chosen],
        stored)
    applied = {(r["account_id"], r["object_type"], r["record_id"]) for r in rows}
    return [i for i in chosen if snapshots[i][0] in applied]


async def upsert_activity(conn: asyncpg.Connection, account_id: int, object_type: str,
                          record_id: int, version: int, event: Event | None) -> bool:
    return bool(await apply_activity_snapshots(
        conn, [((account_id, object_type, record_id), version, event)]))


async def lock_activities(conn: asyncpg.Connection,
                          activities: list[tuple[int, str, int]]) -> None:
    """Serialise the two writers of an engagement's facts (its record event and its
    association) until commit. Without it each transaction could miss the other's
    uncommitted half (the link, the activity) and neither would recompute the customer
    with both. Locks are taken in one sorted order, so two batches cannot deadlock."""
    if activities:
        await conn.execute(
            """SELECT pg_advisory_xact_lock(h) FROM (
                   SELECT DISTINCT hashtextextended(a::text || ':' || t || ':' || i::text, 0) AS h
                   FROM unnest($1::bigint[], $2::text[], $3::bigint[]) AS u(a, t, i)) keys
               ORDER BY h""",
            [a for a, _, _ in activities], [t for _, t, _ in activities],
            [i for _, _, i in activities])


LinkKey = tuple[int, str, int, str, int]  # account, activity type and id, customer type and id


async def set_links(conn: asyncpg.Connection, links: Mapping[LinkKey, bool]) -> None:
    """Link (True) or unlink (False) each activity and customer: one statement each."""
    for linked in (True, False):
        keys = [key for key, wanted in links.items() if wanted is linked]
        if not keys:
            continue
        columns = unnest_columns(keys, 5)
        if linked:
            await conn.execute(
                "INSERT INTO activity_links SELECT * FROM unnest($1::bigint[], $2::text[],"
                " $3::bigint[], $4::text[], $5::bigint[]) ON CONFLICT DO NOTHING", *columns)
        else:
            await conn.execute(
                "DELETE FROM activity_links AS l USING unnest($1::bigint[], $2::text[],"
                " $3::bigint[], $4::text[], $5::bigint[]) AS k(a, at, ai, ct, ci)"
                " WHERE l.account_id = k.a AND l.activity_type = k.at"
                " AND l.activity_id = k.ai AND l.customer_type = k.ct"
                " AND l.customer_id = k.ci", *columns)


async def link(conn: asyncpg.Connection, account_id: int, activity_type: str, activity_id: int,
               customer_type: str, customer_id: int, linked: bool) -> None:
    await set_links(conn, {(account_id, activity_type, activity_id, customer_type,
                            customer_id): linked})


async def customers_linked_to_many(conn: asyncpg.Connection, activities: Sequence[RecordKey]
                                   ) -> dict[RecordKey, list[tuple[str, int]]]:
    """activity -> the customers (type, id) it is linked to, for many at once."""
    if not activities:
        return {}
    rows = await conn.fetch(
        "SELECT l.account_id, l.activity_type, l.activity_id, l.customer_type, l.customer_id"
        " FROM activity_links AS l JOIN unnest($1::bigint[], $2::text[], $3::bigint[])"
        " AS k(a, t, i) ON l.account_id = k.a AND l.activity_type = k.t"
        " AND l.activity_id = k.i", *unnest_columns(activities, 3))
    linked: dict[RecordKey, list[tuple[str, int]]] = {}
    for r in rows:
        linked.setdefault((r["account_id"], r["activity_type"], r["activity_id"]), []).append(
            (r["customer_type"], r["customer_id"]))
    return linked


@dataclass(frozen=True)
class StoredFacts:
    properties: dict[str, str | None] | None  # None: unknown or gone
    events: tuple[Event, ...]


async def load_facts(conn: asyncpg.Connection, account_id: int, customer_type: str,
                     customer_id: int) -> StoredFacts:
    return (await load_facts_many(conn, account_id, customer_type, [customer_id]))[customer_id]


async def load_facts_many(conn: asyncpg.Connection, account_id: int, customer_type: str,
                          customer_ids: list[int],
                          horizons: Mapping[str, datetime | None] | None = None,
                          ) -> dict[int, StoredFacts]:
    """The facts of a batch of customers in two queries (one per table), not two per
    customer: round trips, not scoring, were what a recompute spent its time on."""
    return facts_from_rows(customer_ids, *await facts_rows(conn, account_id, customer_type,
                                                           customer_ids, horizons))


FactsRows = tuple[list[tuple[int, bool, str]], list[tuple[int, str]]]


# Reads of a batch of customers go through unnest(ids) and a LATERAL lookup per id
# (OFFSET 0 keeps it one): with `customer_id = ANY($3)` PostgreSQL read every row of a
# young account (its statistics say the account is tiny) and filtered them, e.g. 708
# buffers for the 10 customers of a consumer batch where a probe per id reads ~40.
#
# Per customer, its events that may still count (types some live rule reads, not left
# behind by a window for good: scoring.may_count), as one JSON array; $1 account, $2
# customer type, $3 customer ids, $4/$5 event types and their horizons. The lateral
# lookup (OFFSET 0 keeps it one) goes link by link through the activities' primary key:
# joined plainly, the planner scanned every activity of the account for each batch,
# which grows with the account, not the batch. (bench_healthscore times it raw.)
EVENTS_THAT_MAY_COUNT_SQL = """
SELECT l.customer_id, json_agg(a.event)::text FROM unnest($3::bigint[]) AS k(id)
CROSS JOIN LATERAL (
    SELECT * FROM activity_links
    WHERE account_id = $1 AND customer_type = $2 AND customer_id = k.id OFFSET 0) l
CROSS JOIN LATERAL (
    SELECT a.event FROM activities a
    WHERE a.account_id = l.account_id AND a.object_type = l.activity_type
      AND a.record_id = l.activity_id AND a.event IS NOT NULL OFFSET 0) a
JOIN unnest($4::text[], $5::timestamptz[]) AS h(event_type, horizon)
  ON h.event_type = a.event->>'type'
WHERE h.horizon IS NULL OR (a.event->>'occurred_at')::timestamptz > h.horizon
GROUP BY l.customer_id"""


async def facts_rows(conn: asyncpg.Connection, account_id: int, customer_type: str,
                     customer_ids: list[int],
                     horizons: Mapping[str, datetime | None] | None = None) -> FactsRows:
    """A batch's facts as JSON text, undecoded: (record id, gone, properties) per
    customer and (customer id, events as one JSON array) per customer with events.
    Decoded by facts_from_rows, in whichever process scores them (handlers.recompute).

    With `horizons` (scoring.event_horizons at the recompute's instant) only the events
    that may still count are read, filtered in SQL: types no live rule reads and events
    a window has left for good never leave the database (scoring.may_count)."""
    rows = await conn.fetch(
        "SELECT c.record_id, c.gone, c.properties::text FROM unnest($3::bigint[]) AS k(id)"
        " CROSS JOIN LATERAL (SELECT record_id, gone, properties FROM customers"
        "   WHERE account_id = $1 AND object_type = $2 AND record_id = k.id OFFSET 0) AS c",
        account_id, customer_type, customer_ids)
    # One JSON array per customer, parsed once: 20 small jsonb values per customer
    # decoded one by one cost as much as scoring them.
    if horizons is None:
        events = await conn.fetch(
            """SELECT l.customer_id, json_agg(a.event)::text FROM unnest($3::bigint[]) AS k(id)
               CROSS JOIN LATERAL (
                   SELECT * FROM activity_links WHERE account_id = $1
                   AND customer_type = $2 AND customer_id = k.id OFFSET 0) l
               JOIN activities a ON a.account_id = l.account_id
                                AND a.object_type = l.activity_type
                                AND a.record_id = l.activity_id
               WHERE a.event IS NOT NULL
               GROUP BY l.customer_id""",
            account_id, customer_type, customer_ids)
    else:
        events = await conn.fetch(EVENTS_THAT_MAY_COUNT_SQL, account_id, customer_type,
                                  customer_ids, list(horizons), list(horizons.values()))
    return [tuple(r) for r in rows], [tuple(r) for r in events]  # type: ignore[misc]


def facts_from_rows(customer_ids: list[int], customers: list[tuple[int, bool, str]],
                    events: list[tuple[int, str]]) -> dict[int, StoredFacts]:
    """Decode facts_rows: every id of `customer_ids` gets its facts (no row: unknown)."""
    loads, parse = json.loads, datetime.fromisoformat
    properties = {record_id: None if gone else loads(text) for record_id, gone, text in customers}
    per_customer: dict[int, list[Event]] = {customer_id: [] for customer_id in customer_ids}
    for customer_id, text in events:
        per_customer[customer_id] = [
            Event(e["id"], e["type"], parse(e["occurred_at"]), e["properties"])
            for e in loads(text)]
    return {customer_id: StoredFacts(properties.get(customer_id), tuple(found))
            for customer_id, found in per_customer.items()}


async def customer_ids(conn: asyncpg.Connection, account_id: int,
                       customer_type: str) -> list[int]:
    return [r["record_id"] for r in await conn.fetch(
        "SELECT record_id FROM customers WHERE account_id = $1 AND object_type = $2 "
        "AND NOT gone ORDER BY record_id", account_id, customer_type)]


# ---- account settings and property types --------------------------------------------


async def customer_settings(conn: asyncpg.Connection, account_id: int) -> tuple[str, str]:
    """(customer object type, CSM property): the workspace settings (R-CSW-2) once their
    event arrived, else companies and their owner."""
    row = await conn.fetchrow("SELECT customer_object_type, csm_property FROM account_settings "
                              "WHERE account_id = $1", account_id)
    if row is None:
        return DEFAULT_CUSTOMER_TYPE, DEFAULT_CSM_PROPERTY
    return row["customer_object_type"], row["csm_property"]


async def apply_settings(conn: asyncpg.Connection, account_id: int, customer_type: str,
                         csm_property: str, version: int) -> None:
    await conn.execute(
        """INSERT INTO account_settings VALUES ($1, $2, $3, $4)
           ON CONFLICT (account_id) DO UPDATE
               SET customer_object_type = EXCLUDED.customer_object_type,
                   csm_property = EXCLUDED.csm_property, version = EXCLUDED.version
               WHERE account_settings.version < EXCLUDED.version""",
        account_id, customer_type, csm_property, version)


async def property_types(conn: asyncpg.Connection, account_id: int,
                         object_type: str) -> dict[str, str]:
    types = standard_types(object_type)
    for row in await conn.fetch("SELECT name, type, archived FROM property_types "
                                "WHERE account_id = $1 AND object_type = $2",
                                account_id, object_type):
        if row["archived"]:
            types.pop(row["name"], None)
        else:
            types[row["name"]] = row["type"]
    return types


async def apply_property_definition(conn: asyncpg.Connection, account_id: int,
                                    object_type: str, name: str, type_: str,
                                    archived: bool) -> None:
    await conn.execute(
        """INSERT INTO property_types VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (account_id, object_type, name) DO UPDATE
               SET type = EXCLUDED.type, archived = EXCLUDED.archived""",
        account_id, object_type, name, type_, archived)


# ---- profiles -------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredProfile:
    profile_id: str
    live: dict[str, Any] | None
    draft: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.profile_id, "status": "live" if self.live else "draft",
                "has_draft": self.draft is not None, "live": self.live, "draft": self.draft,
                "created_at": self.created_at.isoformat(),
                "updated_at": self.updated_at.isoformat(),
                "published_at": self.published_at.isoformat() if self.published_at else None}


def _profile(row: asyncpg.Record) -> StoredProfile:
    return StoredProfile(row["profile_id"], row["live"], row["draft"], row["created_at"],
                         row["updated_at"], row["published_at"])


async def list_profiles(conn: asyncpg.Connection, account_id: int) -> list[StoredProfile]:
    return [_profile(r) for r in await conn.fetch(
        "SELECT * FROM profiles WHERE account_id = $1 ORDER BY created_at, profile_id",
        account_id)]


async def get_profile(conn: asyncpg.Connection, account_id: int, profile_id: str, *,
                      for_update: bool = False) -> StoredProfile | None:
    row = await conn.fetchrow(
        "SELECT * FROM profiles WHERE account_id = $1 AND profile_id = $2"
        + (" FOR UPDATE" if for_update else ""), account_id, profile_id)
    return _profile(row) if row else None


async def lock_account_profiles(conn: asyncpg.Connection, account_id: int) -> None:
    """Serialise limit checks of one account (two creates at once cannot both pass)."""
    await conn.execute("SELECT pg_advisory_xact_lock(7242004, $1::int)", account_id % 2**31)


async def save_profile(conn: asyncpg.Connection, account_id: int, profile_id: str,
                       live: dict[str, Any] | None, draft: dict[str, Any] | None,
                       user_id: int, published: bool = False) -> None:
    await conn.execute(
        """INSERT INTO profiles (account_id, profile_id, live, draft, created_by)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (account_id, profile_id) DO UPDATE
               SET live = EXCLUDED.live, draft = EXCLUDED.draft, updated_at = now(),
                   published_at = CASE WHEN $6 THEN now() ELSE profiles.published_at END""",
        account_id, profile_id, live, draft, user_id, published)


async def delete_profile(conn: asyncpg.Connection, account_id: int, profile_id: str) -> None:
    await conn.execute("DELETE FROM profiles WHERE account_id = $1 AND profile_id = $2",
                       account_id, profile_id)
    await conn.execute("DELETE FROM scores WHERE account_id = $1 AND profile_id = $2",
                       account_id, profile_id)


@dataclass(frozen=True)
class LiveProfile:
    profile: Profile
    segments: tuple[Segment, ...]


async def live_profiles(conn: asyncpg.Connection, account_id: int) -> list[LiveProfile]:
    rows = await conn.fetch("SELECT profile_id, live FROM profiles WHERE account_id = $1 "
                            "AND live IS NOT NULL ORDER BY profile_id", account_id)
    out = []
    for row in rows:
        profile, segments = profile_from_json(row["live"], profile_id=row["profile_id"],
                                              status="live")
        out.append(LiveProfile(profile, segments))
    return out


# ---- scores, changes, alerts ----------------------------------------------------------


async def stored_score(conn: asyncpg.Connection, account_id: int, profile_id: str,
                       customer_type: str, customer_id: int) -> ScoreResult | None:
    found = await conn.fetchval(
        "SELECT result FROM scores WHERE account_id = $1 AND profile_id = $2 "
        "AND customer_type = $3 AND customer_id = $4",
        account_id, profile_id, customer_type, customer_id)
    return result_from_json(found) if found else None


async def stored_scores(conn: asyncpg.Connection, account_id: int, customer_type: str,
                        customer_ids: list[int]) -> dict[tuple[str, int], StoredScore]:
    """Every profile's stored score and band of a batch of customers, in one query: what
    a recompute compares against (the stored explanation is not read back)."""
    rows = await conn.fetch(
        "SELECT s.profile_id, s.customer_id, s.score, s.band FROM unnest($3::bigint[]) AS k(id)"
        " CROSS JOIN LATERAL (SELECT profile_id, customer_id, score, band FROM scores"
        "   WHERE account_id = $1 AND customer_type = $2 AND customer_id = k.id OFFSET 0) AS s",
        account_id, customer_type, customer_ids)
    return {(r["profile_id"], r["customer_id"]): StoredScore(
        r["profile_id"], str(r["customer_id"]), r["score"], r["band"]) for r in rows}


ScoreRow = tuple[str, int, int, str, str, datetime, datetime | None]


def _compact_json(document: dict[str, Any]) -> str:
    """The stored result as JSON text: orjson, ~3 us a customer where the standard
    encoder took ~16 (bench profile); the jsonb stored from either is the same."""
    return orjson.dumps(document, option=orjson.OPT_NON_STR_KEYS).decode()


def score_row(result: ScoreResult) -> ScoreRow:
    """A score as save_scores stores it: (profile, customer, score, band, the result with
    its explanation as JSON text, computed_at, next_change_at). Made where the score is
    computed (a scoring process sends text, cheaper to pass on than the objects)."""
    return (result.profile_id, int(result.customer_id), result.score, result.band,
            _compact_json(result_to_json(result)), result.computed_at,
            result.next_change_at)


async def save_scores(conn: asyncpg.Connection, account_id: int, customer_type: str,
                      rows: list[ScoreRow]) -> None:
    """Insert or replace a batch of scores (score_row) in one statement (arrays unnested)."""
    if not rows:
        return
    columns = list(zip(*rows, strict=True))
    await conn.execute(
        """INSERT INTO scores (account_id, profile_id, customer_type, customer_id, score, band,
                               result, computed_at, next_change_at)
           SELECT $1, p, $2, c, s, b, r::jsonb, t, n
           FROM unnest($3::text[], $4::bigint[], $5::int[], $6::text[], $7::text[],
                       $8::timestamptz[], $9::timestamptz[]) AS u(p, c, s, b, r, t, n)
           ON CONFLICT (account_id, profile_id, customer_type, customer_id) DO UPDATE
               SET score = EXCLUDED.score, band = EXCLUDED.band, result = EXCLUDED.result,
                   computed_at = EXCLUDED.computed_at, next_change_at = EXCLUDED.next_change_at""",
        account_id, customer_type, *columns)


async def delete_scores(conn: asyncpg.Connection, account_id: int, customer_type: str,
                        keys: list[tuple[str, int]]) -> None:
    """Delete the scores of (profile id, customer id) pairs in one statement."""
    if not keys:
        return
    await conn.execute(
        """DELETE FROM scores s USING unnest($3::text[], $4::bigint[]) AS k(p, c)
           WHERE s.account_id = $1 AND s.customer_type = $2 AND s.profile_id = k.p
             AND s.customer_id = k.c""",
        account_id, customer_type, [p for p, _ in keys], [c for _, c in keys])


CHANGE_COLUMNS = ["account_id", "profile_id", "customer_type", "customer_id", "old_score",
                  "new_score", "old_band", "new_band", "cause", "at"]


async def insert_changes(conn: asyncpg.Connection, account_id: int, customer_type: str,
                         changes: list[ScoreChange]) -> None:
    """Keep a batch of changes by COPY, in the order given (their ids order equal `at`s)."""
    if changes:
        await conn.copy_records_to_table("score_changes", columns=CHANGE_COLUMNS, records=[
            (account_id, c.profile_id, customer_type, int(c.customer_id), c.old_score,
             c.new_score, c.old_band, c.new_band, c.cause, c.at) for c in changes])


def _change(row: asyncpg.Record) -> ScoreChange:
    return ScoreChange(str(row["customer_id"]), row["profile_id"], row["old_score"],
                       row["new_score"], row["old_band"], row["new_band"], row["cause"],
                       row["at"])


async def customer_changes(conn: asyncpg.Connection, account_id: int, profile_id: str,
                           customer_type: str, customer_id: int) -> list[ScoreChange]:
    return [_change(r) for r in await conn.fetch(
        "SELECT * FROM score_changes WHERE account_id = $1 AND profile_id = $2 "
        "AND customer_type = $3 AND customer_id = $4 ORDER BY at, id",
        account_id, profile_id, customer_type, customer_id)]


async def profile_changes(conn: asyncpg.Connection, account_id: int, profile_id: str,
                          until: datetime) -> list[ScoreChange]:
    return [_change(r) for r in await conn.fetch(
        "SELECT * FROM score_changes WHERE account_id = $1 AND profile_id = $2 AND at < $3 "
        "ORDER BY at, id", account_id, profile_id, until)]


async def latest_scores(conn: asyncpg.Connection, account_id: int,
                        profile_id: str) -> list[tuple[int, str]]:
    return [(r["score"], r["band"]) for r in await conn.fetch(
        "SELECT score, band FROM scores WHERE account_id = $1 AND profile_id = $2",
        account_id, profile_id)]


async def insert_alert(conn: asyncpg.Connection, alert: dict[str, Any]) -> None:
    columns = ", ".join(alert)
    params = ", ".join(f"${i}" for i in range(1, len(alert) + 1))
    await conn.execute(f"INSERT INTO alerts ({columns}) VALUES ({params})", *alert.values())


async def active_alerts(conn: asyncpg.Connection, account_id: int, user_id: int,
                        now: datetime, limit: int, before: int | None) -> list[dict[str, Any]]:
    """Newest first (in the order they fired); `before` is the last seq of a page."""
    rows = await conn.fetch(
        """SELECT * FROM alerts WHERE account_id = $1 AND user_id = $2 AND expires_at > $3
             AND ($4::bigint IS NULL OR seq < $4)
           ORDER BY seq DESC LIMIT $5""",
        account_id, user_id, now, before, limit)
    return [dict(r) for r in rows]


async def due_customers(conn: asyncpg.Connection, now: datetime,
                        limit: int) -> list[tuple[int, str, int]]:
    """Scores due at `now`, locked so a second replica ticking at once skips them."""
    rows = await conn.fetch(
        """SELECT account_id, customer_type, customer_id FROM scores
           WHERE next_change_at IS NOT NULL AND next_change_at <= $1
           ORDER BY next_change_at LIMIT $2 FOR UPDATE SKIP LOCKED""", now, limit)
    return list(dict.fromkeys((r["account_id"], r["customer_type"], r["customer_id"])
                              for r in rows))

