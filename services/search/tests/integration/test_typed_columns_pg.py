"""The SQL helpers of migrations 0007 and 0009 follow the Python rules exactly (R-SRCH-1).

`search_epoch_millis` must read every stored text as `typing.parse_epoch_millis`
does (the explain evaluator and the SQL answer the same), and `filter_terms`
must hold a term for every value an EQ/IN could match, or the GIN pre-filter
would hide a record.
"""

import pytest

from crm_search.adapters.query_sql import DATE_COLUMNS, compile_search
from crm_search.domain.explain import record_matches
from crm_search.domain.number_terms import stored_terms
from crm_search.domain.query import parse_search_request
from crm_search.domain.typing import parse_epoch_millis, parse_number

pytestmark = pytest.mark.integration

DATE_TEXTS = [
    "2024-01-15", "2024-01-15T10:00", "2024-01-15T10:00Z", "2024-01-15 10:00:00",
    "2024-01-15T10:00:00.5Z", "2024-01-15T10:00:00.123456+05:30", "2024-01-15T23:59-0130",
    "2024-02-29T23:59:59.999+00:00", "2023-02-30", "2023-02-31T01:00:00Z", "1999-12-31T24:00",
    "1700000000000", "-86400000", "0", "000000000000001", "1234567890123456", "0000-01-01",
    "2024-13-01", "2024-00-10", "2024-01-32", "2024-1-5", "2024-01-15T10", "2024-01-15T10:00+2",
    "2024-01-15T10:00:00.Z", " 2024-01-15", "2024-01-15 ", "", "x", "9999-12-31T23:59:59.999Z",
    "0001-01-01T00:00:00Z", "2024-01-15t10:00:00z",
]


async def test_epoch_millis_in_sql_is_the_python_rule(search_pool):
    # R-SRCH-1: dates compare as instants the same way in SQL and in explain
    async with search_pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT t, search_epoch_millis(t) AS ms FROM unnest($1::text[]) AS t", DATE_TEXTS)
    got = {row["t"]: row["ms"] for row in rows}
    assert got == {text: parse_epoch_millis(text) for text in DATE_TEXTS}


async def test_stored_date_columns_hold_the_parsed_property(search_pool):
    # R-SRCH-1
    properties = {name: "2024-01-15T10:00:00.250+01:00" for name in DATE_COLUMNS}
    async with search_pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO search_documents (account_id, object_type, record_id, version,"
            " properties, created_at, updated_at) VALUES (901, 'deals', 1, 1, $1, now(), now())",
            properties)
        row = await conn.fetchrow(
            f"SELECT {', '.join(DATE_COLUMNS.values())} FROM search_documents"
            " WHERE account_id = 901")
    assert set(row.values()) == {parse_epoch_millis("2024-01-15T10:00:00.250+01:00")}


@pytest.mark.parametrize("name, stored, operator, wanted, matches", [
    ("stage", "Customer", "EQ", "customer", True),        # text: case-insensitive
    ("stage", "customer", "EQ", "CUSTOMER", True),
    ("stage", "a;b", "EQ", "a", False),                   # text has no options
    ("stage", "A;B", "EQ", "a;b", True),
    ("plan", "gold;Silver", "EQ", "Silver", True),        # enumeration: an option
    ("plan", "gold;Silver", "EQ", "silver", False),       # exactly, case-sensitive
    ("plan", "Gold", "EQ", "gold", False),
    ("plan", "gold;Silver", "IN", "bronze,Silver", True),
    ("plan", "a;b", "EQ", "a;b", True),                   # the whole value
    ("plan", "x" * 300 + ";short", "EQ", "short", True),  # an option of a long value
    ("vip", "TRUE", "EQ", "true", True),                  # bool
    ("vip", "yes", "EQ", "true", False),
    ("vip", "false", "IN", "true", False),
])
async def test_term_lookups_are_the_typed_comparison(search_pool, name, stored, operator,
                                                     wanted, matches):
    # R-SRCH-1: the GIN lookup answers exactly what the typed comparison would
    types = {"plan": "enumeration", "vip": "bool"}
    values = wanted.split(",")
    flt = ({"propertyName": name, "operator": "EQ", "value": values[0]} if operator == "EQ"
           else {"propertyName": name, "operator": "IN", "values": values})
    compiled = compile_search(902, "contacts", parse_search_request(
        {"filterGroups": [{"filters": [flt]}]}), types)
    assert "filter_terms &&" in compiled.sql
    async with search_pool.acquire() as conn:
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO search_documents (account_id, object_type, record_id, version,"
                " properties, created_at, updated_at)"
                " VALUES (902, 'contacts', 1, 1, $1, now(), now())", {name: stored})
            ids = [r["record_id"] for r in await conn.fetch(compiled.sql, *compiled.params)]
            await conn.execute("DELETE FROM search_documents WHERE account_id = 902")
    assert ids == ([1] if matches else [])
    # and the explain evaluator (R-SRCH-4) says the same
    query = parse_search_request({"filterGroups": [{"filters": [flt]}]})
    assert record_matches({name: stored}, False, query, types) is matches


NUMBER_TEXTS = ["0", "-0", "0.5", "-0.5", "7", "-7", "49.99", "50", "50.0", "50.5", "51", "99",
                "100", "-10.5", "1e3", "1.5e2", ".5", "5.", "+7", "999999999999999",
                "1000000000000000", "-1000000000000000", "-1000000000000000.5", "1e20", "-1e20",
                "1e-999", "1e999", "12 ", "", "x", "1,5", "0x10", "1e1000", "--1"]


async def test_number_terms_in_sql_are_the_python_rule(search_pool):
    # R-SRCH-1: migration 0009 stores the terms number_terms.stored_terms names
    async with search_pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT t, search_number_terms_of('score', t) AS terms FROM unnest($1::text[]) AS t",
            NUMBER_TEXTS)
    got = {row["t"]: row["terms"] for row in rows}
    wanted = {}
    for text in NUMBER_TEXTS:
        number = parse_number(text)
        wanted[text] = [] if number is None else stored_terms("score", number)
    assert got == wanted


@pytest.mark.parametrize("operator, operands", [
    ("GT", ["50"]), ("GTE", ["50"]), ("LT", ["50"]), ("LTE", ["50"]), ("GT", ["-1"]),
    ("LT", ["0"]), ("LTE", ["-11"]), ("BETWEEN", ["-10", "100"]), ("BETWEEN", ["51", "51"]),
    ("BETWEEN", ["60", "50"]), ("GTE", ["999999999999998"]), ("LT", ["-999999999999999"]),
    ("GT", ["50.5"]),  # a fraction: the typed comparison
])
async def test_number_ranges_from_terms_are_the_typed_comparison(search_pool, operator,
                                                                  operands):
    # R-SRCH-1: the GIN lookup answers exactly what comparing Decimals would
    flt = {"propertyName": "score", "operator": operator, "value": operands[0]}
    if operator == "BETWEEN":
        flt["highValue"] = operands[1]
    body = {"filterGroups": [{"filters": [flt]}], "limit": 100}
    types = {"score": "number"}
    compiled = compile_search(903, "contacts", parse_search_request(body), types)
    assert ("::numeric END)" in compiled.sql) is ("." in operands[0])
    stored = {i: text for i, text in enumerate(NUMBER_TEXTS, start=1)}
    async with search_pool.acquire() as conn:
        async with conn.transaction():
            await conn.executemany(
                "INSERT INTO search_documents (account_id, object_type, record_id, version,"
                " properties, created_at, updated_at)"
                " VALUES (903, 'contacts', $1, 1, $2, now(), now())",
                [(i, {"score": text}) for i, text in stored.items()])
            found = {r["record_id"] for r in await conn.fetch(compiled.sql, *compiled.params)}
            total = await conn.fetchval(compiled.count_sql, *compiled.count_params)
            await conn.execute("DELETE FROM search_documents WHERE account_id = 903")
    query = parse_search_request(body)
    wanted = {i for i, text in stored.items()
              if record_matches({"score": text}, False, query, types)}
    assert found == wanted
    assert total == len(wanted)


async def test_documents_hold_number_terms_except_for_the_record_id(search_pool):
    # R-SRCH-1: hs_object_id compares on record_id, so it needs no number terms
    async with search_pool.acquire() as conn:
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO search_documents (account_id, object_type, record_id, version,"
                " properties, created_at, updated_at) VALUES (904, 'contacts', 42, 1, $1,"
                " now(), now())", {"hs_object_id": "42", "score": "7", "name": "x"})
            terms = await conn.fetchval(
                "SELECT filter_terms FROM search_documents WHERE account_id = 904")
            await conn.execute("DELETE FROM search_documents WHERE account_id = 904")
    assert [t for t in terms if "#" in t] == stored_terms("score", parse_number("7"))
