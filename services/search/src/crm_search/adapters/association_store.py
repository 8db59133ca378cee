"""search_associations: one row per direction of a pair, with a tombstone when removed."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from crm_search.domain.associations import AssociationState

UPSERT_SQL = """
INSERT INTO search_associations AS a (account_id, from_type, from_id, to_type, to_id,
    associated, changed_at)
SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::bigint[],
                     $6::boolean[], $7::timestamptz[])
ON CONFLICT (account_id, from_type, from_id, to_type, to_id) DO UPDATE SET
    associated = EXCLUDED.associated, changed_at = EXCLUDED.changed_at
WHERE a.changed_at <= EXCLUDED.changed_at
"""


async def upsert_associations(conn: asyncpg.Connection,
                              states: Sequence[AssociationState]) -> None:
    if not states:
        return
    await conn.execute(UPSERT_SQL, [s.account_id for s in states], [s.from_type for s in states],
                       [s.from_id for s in states], [s.to_type for s in states],
                       [s.to_id for s in states], [s.associated for s in states],
                       [s.changed_at for s in states])


async def associations_of(conn: asyncpg.Connection, account_id: int, object_type: str,
                          record_id: int) -> list[tuple[str, int]]:
    """The records one record is associated with now, in either stored direction."""
    rows = await conn.fetch(
        "SELECT to_type AS t, to_id AS i FROM search_associations WHERE account_id = $1"
        " AND from_type = $2 AND from_id = $3 AND associated"
        " UNION SELECT from_type, from_id FROM search_associations WHERE account_id = $1"
        " AND to_type = $2 AND to_id = $3 AND associated", account_id, object_type, record_id)
    return [(r["t"], r["i"]) for r in rows]
