"""The SQL compiler and the Python evaluator agree, on a real PostgreSQL (R-SRCH-1, R-SRCH-4).

Creates a throwaway database, the search tables, the records of
tests/unit/test_query_cases.py, and runs every case through `compile_search`.
"""

import importlib.util
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crm_search.adapters.query_sql import compile_search
from crm_search.domain.query import SearchRequestInvalid, parse_search_request

pytestmark = pytest.mark.integration

ACCOUNT = 7
OTHER_ACCOUNT = 8


def _load_cases():
    path = Path(__file__).parents[1] / "unit" / "test_query_cases.py"
    spec = importlib.util.spec_from_file_location("search_query_cases", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


cases = _load_cases()

@pytest.fixture(scope="module")
async def db(search_pool):
    """The service's own schema (migrations), so the functions and columns the
    compiler relies on are the ones production has."""
    async with search_pool.acquire() as conn:
        await _insert_records(conn)
        yield conn


async def _insert_records(conn):
    for record in cases.RECORDS:
        props = record.properties
        # Record 4 is the oldest, so the default order (created_at) differs from id order.
        created_day = 1 if record.record_id == 4 else 10 + record.record_id
        for account in (ACCOUNT, OTHER_ACCOUNT):
            await conn.execute(
                "INSERT INTO search_documents (account_id, object_type, record_id, version,"
                " archived, owner_id, properties, search_text, created_at, updated_at)"
                " VALUES ($1, 'contacts', $2, 1, $3, $4, $5::jsonb, to_tsvector('simple', $6),"
                " $7, $7)",
                account,
                record.record_id,
                record.archived,
                100 + record.record_id % 2,
                props,
                " ".join(props.get(p, "") for p in ("firstname", "email")),
                datetime(2024, 2, created_day, tzinfo=UTC),
            )
        for other_type, other_id in record.associations:
            # Stored in either direction: the compiler must find both.
            if record.record_id % 2:
                row = (ACCOUNT, "contacts", record.record_id, other_type, other_id)
            else:
                row = (ACCOUNT, other_type, other_id, "contacts", record.record_id)
            await conn.execute("INSERT INTO search_associations VALUES ($1, $2, $3, $4, $5)", *row)
    # Another account's association must never count.
    await conn.execute(
        "INSERT INTO search_associations VALUES ($1, 'contacts', 3, 'companies', 100)",
        OTHER_ACCOUNT,
    )


async def run_search(conn, body, visibility=None):
    """(ids of the page, total) for a body; a page of 200 unless the body says."""
    query = parse_search_request({"limit": 200, **body})
    compiled = compile_search(ACCOUNT, "contacts", query, cases.PROPERTY_TYPES, visibility)
    rows = await conn.fetch(compiled.sql, *compiled.params)
    total = await conn.fetchval(compiled.count_sql, *compiled.count_params)
    return [row["record_id"] for row in rows], total


async def sql_ids(conn, body, visibility=None):
    ids, total = await run_search(conn, body, visibility)
    assert total == len(ids)  # every match fits on one page of 200
    return ids


@pytest.mark.parametrize("name, body, expected", cases.CASES, ids=[c[0] for c in cases.CASES])
async def test_sql_and_python_return_the_same_records(db, name, body, expected):
    # R-SRCH-1 (SQL) and R-SRCH-4 (the Python evaluator explains the same answer)
    assert sorted(await sql_ids(db, body)) == cases.python_ids(body) == expected


async def test_numbers_sort_numerically_and_missing_values_last(db):
    # R-SRCH-1
    ids = await sql_ids(db, {"sorts": [{"propertyName": "amount", "direction": "DESCENDING"}]})
    assert ids == [4, 2, 1, 5, 3]  # 12.50, 10, 9, -300, then "abc" (no number)
    assert await sql_ids(db, {"sorts": ["amount"]}) == [5, 1, 2, 4, 3]


async def test_dates_sort_as_instants_with_record_id_tie_break(db):
    # R-SRCH-1
    assert await sql_ids(db, {"sorts": ["lastseen"]}) == [1, 2, 5, 3, 4]
    assert await sql_ids(db, {"sorts": ["-closedate"]}) == [2, 1, 3, 4, 5]


async def test_default_order_is_oldest_created_first(db):
    # R-SRCH-1
    assert await sql_ids(db, {}) == [4, 1, 2, 3, 5]


async def test_limit_and_after_page_through_a_stable_order(db):
    # R-SRCH-1
    first, total = await run_search(db, {"sorts": ["tags"], "limit": 2})
    second, _ = await run_search(db, {"sorts": ["tags"], "limit": 2, "after": "2"})
    rest, _ = await run_search(db, {"sorts": ["tags"], "after": "4"})
    assert total == 5
    # bronze, gold, gold;silver, silver, then the record without tags
    assert first + second + rest == [3, 4, 1, 2, 5]


async def test_free_text_matches_word_prefixes(db):
    # R-SRCH-1
    assert sorted(await sql_ids(db, {"query": "ali"})) == [1, 5]
    assert await sql_ids(db, {"query": "BO"}) == [2]
    assert await sql_ids(db, {"query": "ali carol"}) == []
    assert await sql_ids(db, {"query": "alice@example.com"}) == [1]


@pytest.mark.parametrize("text", ["a&|!(b", "'", "\\", ":*", "o'brien <-> x", "& |", "%_"])
async def test_free_text_never_breaks_the_query(db, text):
    # R-SRCH-1: any text is a safe query
    assert isinstance(await sql_ids(db, {"query": text}), list)


async def test_visibility_fragment_is_renumbered_and_applied(db):
    # R-AUTH-3 through R-SRCH-1: the identity's predicate narrows the search
    body = cases.one("amount", "GTE", "9")  # records 1, 2 and 4
    visible = ("d.owner_id = ANY($1::bigint[])", [[100]])
    assert sorted(await sql_ids(db, body, visible)) == [2, 4]
    assert await sql_ids(db, body, ("d.owner_id = $1::bigint AND $2::bool", [101, True])) == [1]


async def test_filter_values_reach_the_database_only_as_parameters(db):
    # R-SRCH-1: a value that looks like SQL is just a value
    hostile = "x'); DROP TABLE search_documents; --"
    assert await sql_ids(db, cases.one("firstname", "EQ", hostile)) == []
    assert await sql_ids(db, cases.one(hostile, "HAS_PROPERTY")) == []
    assert await db.fetchval("SELECT count(*) FROM search_documents") == 12


async def test_bad_filter_values_are_refused_before_sql(db):
    # R-SRCH-1
    with pytest.raises(SearchRequestInvalid, match="amount"):
        await sql_ids(db, cases.one("amount", "EQ", "abc"))


async def test_a_removed_association_no_longer_matches(db):
    # R-SRCH-1: removals leave a tombstone row that association filters skip
    await db.execute("INSERT INTO search_associations VALUES ($1, 'contacts', 5, 'companies',"
                     " 777, false)", ACCOUNT)
    assert await sql_ids(db, cases.one("associations.company", "EQ", "777")) == []
    await db.execute("UPDATE search_associations SET associated = true WHERE to_id = 777")
    assert await sql_ids(db, cases.one("associations.company", "EQ", "777")) == [5]
