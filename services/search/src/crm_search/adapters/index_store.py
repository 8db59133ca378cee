"""Writes documents into search_documents: one statement per batch, and a
stored document is replaced only by a newer version."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from crm_search.domain.documents import Document

UPSERT_SQL_TEMPLATE = """
INSERT INTO {table} AS d (account_id, object_type, record_id, version, archived,
    deleted, owner_id, properties, search_text, created_at, updated_at, indexed_at)
SELECT a, t, r, v, ar, de, o, p, to_tsvector('simple', s), c, u, now()
FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::boolean[],
            $6::boolean[], $7::bigint[], $8::jsonb[], $9::text[], $10::timestamptz[],
            $11::timestamptz[]) AS x(a, t, r, v, ar, de, o, p, s, c, u)
ON CONFLICT (account_id, object_type, record_id) DO UPDATE SET
    version = EXCLUDED.version, archived = EXCLUDED.archived, deleted = EXCLUDED.deleted,
    owner_id = EXCLUDED.owner_id, properties = EXCLUDED.properties,
    search_text = EXCLUDED.search_text, created_at = EXCLUDED.created_at,
    updated_at = EXCLUDED.updated_at, indexed_at = now()
WHERE d.version < EXCLUDED.version AND NOT d.deleted
"""


async def upsert_documents(conn: asyncpg.Connection, documents: Sequence[Document],
                           table: str = "search_documents") -> None:
    """table: the live index, or a rebuild's new generation (a name this service made)."""
    if not documents:
        return
    columns = list(zip(*[(d.account_id, d.object_type, d.record_id, d.version, d.archived,
                          d.deleted, d.owner_id, d.properties, d.search_text(), d.created_at,
                          d.updated_at) for d in documents], strict=True))
    await conn.execute(UPSERT_SQL_TEMPLATE.format(table=table), *[list(c) for c in columns])


async def forget_merged(conn: asyncpg.Connection, keys: Sequence[tuple[int, str, int]],
                        table: str = "search_documents") -> None:
    """A merged-away record leaves the index for good (its id now means the primary)."""
    for account_id, object_type, record_id in keys:
        await conn.execute(
            f"UPDATE {table} SET archived = true, deleted = true, properties = '{{}}',"
            " search_text = NULL, indexed_at = now()"
            " WHERE account_id = $1 AND object_type = $2 AND record_id = $3",
            account_id, object_type, record_id)


async def applied_versions(conn: asyncpg.Connection, account_id: int,
                           wanted: Sequence[tuple[str, int]],
                           table: str = "search_documents") -> dict[tuple[str, int], int]:
    rows = await conn.fetch(
        f"SELECT object_type, record_id, version FROM {table} WHERE account_id = $1"
        " AND (object_type, record_id) IN (SELECT * FROM unnest($2::text[], $3::bigint[]))",
        account_id, [t for t, _ in wanted], [i for _, i in wanted])
    return {(r["object_type"], r["record_id"]): r["version"] for r in rows}
