"""Migration 0010: a document write goes straight into the GIN indexes (R-SRCH-1, R-SRCH-3).

A search reads the whole GIN pending list before the index proper, so a list
left there costs every search (bench_search: the capped count doubled with a
full list). No document table, live or a rebuild generation, may keep one.
"""

import pytest

from crm_search.adapters.rebuild_store import start_rebuild

pytestmark = pytest.mark.integration

GIN_INDEXES_SQL = """
SELECT index_class.relname, index_class.reloptions
FROM pg_index
JOIN pg_class AS index_class ON index_class.oid = pg_index.indexrelid
JOIN pg_am ON pg_am.oid = index_class.relam
WHERE pg_index.indrelid = $1::regclass AND pg_am.amname = 'gin'
"""
PENDING_SQL = ("SELECT n_pending_tuples FROM"
               " gin_metapage_info(get_raw_page($1::regclass::text, 0))")
INSERT_SQL = """
INSERT INTO {table} (account_id, object_type, record_id, version, properties,
                     search_text, created_at, updated_at)
SELECT 902, 'contacts', i, 1, jsonb_build_object('firstname', 'Ada' || i, 'score', i::text),
       to_tsvector('simple', 'Ada' || i), now(), now()
FROM generate_series(1, 50) AS i
"""


async def _pending_tuples_after_writes(conn, table: str) -> dict[str, int]:
    indexes = await conn.fetch(GIN_INDEXES_SQL, table)
    assert len(indexes) == 2, indexes  # filter_terms and search_text
    for row in indexes:
        assert "fastupdate=off" in (row["reloptions"] or []), row
    await conn.execute(INSERT_SQL.format(table=table))
    return {row["relname"]: await conn.fetchval(PENDING_SQL, row["relname"])
            for row in indexes}


async def test_live_documents_keep_no_pending_list(search_pool):
    async with search_pool.acquire() as conn:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")
        pending = await _pending_tuples_after_writes(conn, "search_documents")
    assert pending == {"search_documents_filter_terms": 0, "search_documents_text": 0}


async def test_a_rebuild_generation_keeps_no_pending_list(search_pool):
    async with search_pool.acquire() as conn:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")
        rebuild = await start_rebuild(conn, "test-")
        pending = await _pending_tuples_after_writes(conn, rebuild["table_name"])
    assert len(pending) == 2
    assert set(pending.values()) == {0}
