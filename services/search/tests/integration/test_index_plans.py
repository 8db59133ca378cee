"""The queries that must stay fast use indexes, on the real migrated schema (R-SRCH-1)."""

from __future__ import annotations

import json

import pytest

from crm_search.adapters.query_sql import compile_search
from crm_search.domain.query import parse_search_request

pytestmark = pytest.mark.integration
ACCOUNT = 41
ROWS = 200_000  # at export scale the planner prefers the ordered range scan


@pytest.fixture(scope="module")
async def filled(search_pool):
    async with search_pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO search_documents (account_id, object_type, record_id, version,"
            " properties, created_at, updated_at)"
            " SELECT $1, 'contacts', i, 1, jsonb_build_object('hs_object_id', i::text,"
            "  'lifecyclestage', (ARRAY['lead','customer','opportunity'])[i % 3 + 1],"
            "  'email', 'c' || i || '@example.com'), now(), now()"
            " FROM generate_series(1, $2) AS i", ACCOUNT, ROWS)
        await conn.execute("ANALYZE search_documents")
    return search_pool


async def plan(pool, body: dict) -> str:
    compiled = compile_search(ACCOUNT, "contacts", parse_search_request(body),
                              {"lifecyclestage": "enumeration"})
    async with pool.acquire() as conn:
        rows = await conn.fetch(f"EXPLAIN (FORMAT JSON) {compiled.sql}", *compiled.params)
        return json.dumps(rows[0][0])


async def test_keyset_page_by_record_id_is_a_primary_key_range_scan(filled):
    # R-SRCH-1: exports page past 10,000 results by hs_object_id GT + sort
    body = {"filterGroups": [{"filters": [
        {"propertyName": "lifecyclestage", "operator": "EQ", "value": "customer"},
        {"propertyName": "hs_object_id", "operator": "GT", "value": "1000"}]}],
        "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}], "limit": 200}
    shown = await plan(filled, body)
    assert "search_documents_pkey" in shown
    assert '"Node Type": "Sort"' not in shown  # rows come in index order
    assert '"Node Type": "Seq Scan"' not in shown


async def test_keyset_page_returns_ids_past_the_last_in_order(filled):
    # R-SRCH-1
    body = {"filterGroups": [{"filters": [
        {"propertyName": "hs_object_id", "operator": "GT", "value": "199990"}]}],
        "sorts": ["hs_object_id"], "limit": 5}
    compiled = compile_search(ACCOUNT, "contacts", parse_search_request(body), {})
    async with filled.acquire() as conn:
        ids = [r["record_id"] for r in await conn.fetch(compiled.sql, *compiled.params)]
        total = await conn.fetchval(compiled.count_sql, *compiled.count_params)
    assert ids == [199991, 199992, 199993, 199994, 199995]
    assert total == 10
