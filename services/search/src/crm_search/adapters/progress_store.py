"""search_index_progress: per object type, how many record events the index has
applied and the newest event time among them (shared by every replica)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import asyncpg

RECORD_SQL = """
INSERT INTO search_index_progress AS p (object_type, events_applied, last_event_at,
    last_applied_at)
SELECT t, n, e, now() FROM unnest($1::text[], $2::bigint[], $3::timestamptz[]) AS x(t, n, e)
ON CONFLICT (object_type) DO UPDATE SET
    events_applied = p.events_applied + EXCLUDED.events_applied,
    last_event_at = greatest(p.last_event_at, EXCLUDED.last_event_at),
    last_applied_at = now()
"""


async def record_progress(conn: asyncpg.Connection,
                          applied: Mapping[str, Sequence[datetime]]) -> None:
    """applied: per object type, the event times of the events just applied."""
    types = sorted(applied)  # one lock order for every replica
    if types:
        await conn.execute(RECORD_SQL, types, [len(applied[t]) for t in types],
                           [max(applied[t]) for t in types])


async def read_progress(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    rows = await conn.fetch("SELECT object_type, events_applied, last_event_at, last_applied_at"
                            " FROM search_index_progress ORDER BY object_type")
    return [dict(r) for r in rows]
