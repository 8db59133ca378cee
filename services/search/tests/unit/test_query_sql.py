"""Shape of the compiled SQL: parameters only, never values in the text (R-SRCH-1).

What the SQL returns is proven against PostgreSQL in
tests/integration/test_query_sql_pg.py.
"""

import re
from decimal import Decimal

import pytest

from crm_search.adapters.query_sql import compile_search
from crm_search.domain.number_terms import range_terms
from crm_search.domain.query import Operator, SearchRequestInvalid, parse_search_request

TYPES = {"amount": "number", "closedate": "date", "vip": "bool", "tags": "enumeration"}
HOSTILE = "x'); DROP TABLE search_documents; --"


def compile_body(body, visibility=None):
    return compile_search(7, "contacts", parse_search_request(body), TYPES, visibility)


def placeholders(sql):
    return {int(n) for n in re.findall(r"\$(\d+)", sql)}


EVERY_OPERATOR = {
    "filterGroups": [
        {
            "filters": [
                {"propertyName": HOSTILE, "operator": "EQ", "value": HOSTILE},
                {"propertyName": "amount", "operator": "BETWEEN", "value": "1", "highValue": "77"},
                {"propertyName": "tags", "operator": "IN", "values": ["gold-x", "silver-y"]},
                {"propertyName": "notes", "operator": "NOT_CONTAINS_TOKEN", "value": "zz%_*"},
                {"propertyName": "closedate", "operator": "LT", "value": "2024-05-06"},
                {"propertyName": "vip", "operator": "NEQ", "value": "true"},
            ]
        },
        {
            "filters": [
                {"propertyName": "associations.company", "operator": "EQ", "value": "4242"},
                {"propertyName": "email", "operator": "NOT_HAS_PROPERTY"},
                {"propertyName": "firstname", "operator": "NOT_IN", "values": ["Qwerty"]},
            ]
        },
    ],
    "query": "annabel o'hara",
    "sorts": ["-amount", "firstname"],
    "limit": 25,
    "after": "50",
}


def test_values_and_unusual_property_names_are_parameters_never_sql_text():
    # R-SRCH-1
    compiled = compile_body(EVERY_OPERATOR)
    for inlined in (HOSTILE, "77", "gold-x", "zz", "2024-05-06", "4242", "Qwerty", "annabel",
                    "companies"):
        assert inlined not in compiled.sql
        assert inlined not in compiled.count_sql
    assert HOSTILE in compiled.params  # the property name, as a value
    assert HOSTILE.lower() in compiled.params  # the EQ value, folded for case-insensitivity


def test_params_are_exactly_the_values_unusual_names_and_paging():
    # R-SRCH-1: no SQL travels as a parameter, and nothing else does either
    assert compile_body(EVERY_OPERATOR).params == [
        7,
        "contacts",
        HOSTILE,  # property name: not a plain identifier, so a parameter
        HOSTILE.lower(),  # EQ value, folded: strings compare case-insensitively
        # BETWEEN 1 and 77 on a number: the terms of that range (domain.number_terms)
        range_terms("amount", Operator.BETWEEN, [Decimal("1"), Decimal("77")]),
        ["gold-x", "silver-y"],  # IN on an enumeration: looked up in filter_terms
        ["zz\\%\\_%"],  # a LIKE pattern: % and _ escaped, * is %
        1714953600000,  # 2024-05-06 in epoch ms
        ["true"],  # NEQ on a bool: the terms of the positive form, negated
        "companies",
        [4242],
        ["qwerty"],
        "'annabel':* & 'ohara':*",
        25,  # LIMIT
        50,  # OFFSET
    ]


def test_plain_property_names_are_literals_so_indexes_and_columns_match():
    # R-SRCH-1: the planner only matches an expression index on a constant name
    compiled = compile_body(EVERY_OPERATOR)
    for name in ("firstname", "amount", "email", "tags", "notes", "vip"):
        assert f"'{name}'" in compiled.sql
        assert name not in compiled.params
    assert "d.ms_closedate < $" in compiled.sql  # a stored epoch-ms column


def test_eq_and_in_on_text_enumeration_and_bool_are_term_lookups():
    # R-SRCH-1: answered by the GIN index on filter_terms (migration 0007)
    compiled = compile_body({"filterGroups": [{"filters": [
        {"propertyName": "lifecyclestage", "operator": "EQ", "value": "Customer"},
        {"propertyName": "tags", "operator": "IN", "values": ["Gold", "silver"]},
        {"propertyName": "vip", "operator": "EQ", "value": "TRUE"},
        {"propertyName": "amount", "operator": "EQ", "value": "5"},
        {"propertyName": "email", "operator": "EQ", "value": "x" * 201},
    ]}]})
    sql = compiled.sql
    assert "search_filter_terms_of('lifecyclestage', $3::text[], true)" in sql
    assert "search_filter_terms_of('tags', $4::text[], false)" in sql  # case-sensitive
    assert "search_filter_terms_of('vip', $5::text[], true)" in sql
    assert "search_filter_terms_of('amount'" not in sql  # numbers compare by value
    assert "search_filter_terms_of('email'" not in sql  # longer than any stored term
    assert "lower(NULLIF(d.properties ->> 'email', ''))" in sql
    assert compiled.params[2:5] == [["customer"], ["Gold", "silver"], ["true"]]


def test_number_ranges_with_whole_operands_are_term_lookups():
    # R-SRCH-1: GT/GTE/LT/LTE/BETWEEN on numbers answered by filter_terms (migration 0009)
    compiled = compile_body({"filterGroups": [{"filters": [
        {"propertyName": "amount", "operator": "GT", "value": "50"},
        {"propertyName": "amount", "operator": "LTE", "value": "50.5"},
    ]}]})
    assert "d.filter_terms && $3::text[]" in compiled.sql
    assert compiled.params[2] == range_terms("amount", Operator.GT, [Decimal(50)])
    # a fraction: the typed comparison of the stored value
    assert "::numeric END) <= $4::numeric" in compiled.sql
    assert compiled.params[3] == Decimal("50.5")


def test_unusual_property_names_use_the_typed_comparison():
    # R-SRCH-1: stored terms exist for plain identifiers only
    sql = compile_body({"filterGroups": [{"filters": [
        {"propertyName": "a=b", "operator": "EQ", "value": "c"}]}]}).sql
    assert "filter_terms" not in sql


def test_negated_term_lookups_match_records_without_the_value():
    # R-SRCH-1: NOT_IN is the exact complement of IN, absent values included
    sql = compile_body({"filterGroups": [{"filters": [
        {"propertyName": "tags", "operator": "NOT_IN", "values": ["gold"]}]}]}).sql
    assert "NOT coalesce((d.filter_terms && search_filter_terms_of('tags'" in sql


def test_every_placeholder_has_a_parameter_and_every_parameter_is_used():
    # R-SRCH-1: PostgreSQL refuses a parameter it cannot see
    compiled = compile_body(EVERY_OPERATOR)
    assert placeholders(compiled.sql) == set(range(1, len(compiled.params) + 1))
    assert placeholders(compiled.count_sql) == set(range(1, len(compiled.count_params) + 1))
    assert compiled.params[-2:] == [25, 50]  # LIMIT, OFFSET


def test_the_shape_of_the_query():
    # R-SRCH-1
    compiled = compile_body(EVERY_OPERATOR)
    sql = compiled.sql
    assert sql.startswith("SELECT d.record_id")
    assert "d.account_id = $1::bigint AND d.object_type = $2::text AND d.archived = false" in sql
    assert ") OR (" in sql  # groups ORed
    assert "to_tsquery('simple', $" in sql
    assert "'annabel':* & 'ohara':*" in compiled.params
    assert "EXISTS (SELECT 1 FROM search_associations" in sql
    assert re.search(r"ORDER BY .* DESC NULLS LAST, .* ASC NULLS LAST, d\.record_id ASC LIMIT", sql)
    assert compiled.count_sql.startswith("SELECT count(*) FROM (SELECT 1")
    assert "LIMIT 10000) AS capped" in compiled.count_sql


def test_a_property_used_twice_needs_no_parameter():
    # R-SRCH-1
    compiled = compile_body(
        {
            "filterGroups": [
                {"filters": [{"propertyName": "amount", "operator": "GT", "value": "1"}]},
                {"filters": [{"propertyName": "amount", "operator": "LT", "value": "0"}]},
            ],
            "sorts": ["amount"],
        }
    )
    assert "amount" not in compiled.params  # a plain name is a literal, not a parameter


def test_default_order_is_created_at_then_record_id():
    # R-SRCH-1
    assert "ORDER BY d.created_at ASC, d.record_id ASC" in compile_body({}).sql


def test_visibility_fragment_is_renumbered_after_the_query_params():
    # R-AUTH-3 applied to search
    fragment = ("(d.owner_id = ANY($1::text[]) OR $2::bool)", [["u1", "u2"], False])
    compiled = compile_body({"query": "ann"}, fragment)
    # $1 account, $2 type, $3 tsquery, then the fragment's two
    assert "(d.owner_id = ANY($4::text[]) OR $5::bool)" in compiled.sql
    assert compiled.count_params == [7, "contacts", "'ann':*", ["u1", "u2"], False]
    assert compiled.params == compiled.count_params + [10, 0]


def test_a_visibility_fragment_must_use_exactly_its_params():
    with pytest.raises(ValueError, match="visibility fragment"):
        compile_body({}, ("d.owner_id = $2::text", ["u1"]))


def test_bad_values_are_refused_before_any_sql():
    # R-SRCH-1
    with pytest.raises(SearchRequestInvalid, match="'amount'"):
        compile_body(
            {
                "filterGroups": [
                    {"filters": [{"propertyName": "amount", "operator": "EQ", "value": "abc"}]}
                ]
            }
        )


def test_hs_object_id_filters_and_sorts_use_the_record_id_column():
    # R-SRCH-1: keyset paging by record id is a range scan of the primary key
    compiled = compile_body({
        "filterGroups": [{"filters": [
            {"propertyName": "hs_object_id", "operator": "GT", "value": "1200"},
            {"propertyName": "hs_object_id", "operator": "IN", "values": ["1", "2"]}]}],
        "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}]})
    assert "d.record_id > $" in compiled.sql
    assert "d.record_id = ANY($" in compiled.sql
    assert compiled.sql.count("d.record_id ASC") == 1
    assert "hs_object_id" not in compiled.params
    assert 1200 in compiled.params and [1, 2] in compiled.params


def test_hs_object_id_with_a_fraction_compares_the_stored_number():
    # R-SRCH-1: only whole numbers map onto record_id; 2.5 keeps numeric semantics
    compiled = compile_body(
        {"filterGroups": [{"filters": [
            {"propertyName": "hs_object_id", "operator": "LT", "value": "2.5"}]}]})
    assert "d.record_id <" not in compiled.sql
    assert "d.properties ->> 'hs_object_id'" in compiled.sql
