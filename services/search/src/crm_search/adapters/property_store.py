"""search_property_types: the type of every property search has heard of."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from crm_search.domain.property_types import PropertyType

UPSERT_SQL = """
INSERT INTO search_property_types AS p (account_id, object_type, name, type, archived,
    defined_at)
SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::boolean[],
                     $6::timestamptz[])
ON CONFLICT (account_id, object_type, name) DO UPDATE SET
    type = EXCLUDED.type, archived = EXCLUDED.archived, defined_at = EXCLUDED.defined_at
WHERE p.defined_at <= EXCLUDED.defined_at
"""


async def upsert_property_types(conn: asyncpg.Connection, rows: Sequence[PropertyType]) -> None:
    if not rows:
        return
    await conn.execute(UPSERT_SQL, [r.account_id for r in rows], [r.object_type for r in rows],
                       [r.name for r in rows], [r.type for r in rows],
                       [r.archived for r in rows], [r.defined_at for r in rows])


async def load_property_types(conn: asyncpg.Connection, account_id: int,
                              object_type: str) -> dict[str, str]:
    rows = await conn.fetch(
        "SELECT name, type FROM search_property_types WHERE account_id = $1"
        " AND object_type = $2", account_id, object_type)
    return {r["name"]: r["type"] for r in rows}
