"""One table of records and searches with the ids each search must return.

The Python evaluator is checked against it here; the integration test
(tests/integration/test_query_sql_pg.py) runs the same table through the SQL
compiler on a real PostgreSQL, so both sides give the same answer.
"""

from dataclasses import dataclass, field
from typing import Any

import pytest

from crm_search.domain.explain import record_matches
from crm_search.domain.query import parse_search_request


@dataclass(frozen=True)
class Record:
    record_id: int
    properties: dict[str, Any]
    associations: frozenset[tuple[str, int]] = field(default_factory=frozenset)
    archived: bool = False


PROPERTY_TYPES = {
    "firstname": "string",
    "email": "string",
    "notes": "string",
    "amount": "number",
    "closedate": "date",
    "lastseen": "datetime",
    "vip": "bool",
    "tags": "enumeration",
    "phone": "phone_number",  # a type we don't know: compared as a string
}

RECORDS = [
    Record(
        1,
        {
            "firstname": "Alice",
            "email": "alice@example.com",
            "notes": "Met at the fair, very keen.",
            "amount": "9",
            "closedate": "2024-01-15",
            "lastseen": "2024-01-15T10:00:00Z",
            "vip": "true",
            "tags": "gold;silver",
        },
        frozenset({("companies", 100)}),
    ),
    Record(
        2,
        {
            "firstname": "bob",
            "email": "bob@Example.org",
            "notes": "keen on pricing 100xoff",
            "amount": "10",
            "closedate": "1705363200000",  # 2024-01-16T00:00Z
            "lastseen": "2024-01-15T12:00:00+02:00",  # the same instant as record 1
            "vip": "false",
            "tags": "silver",
        },
        frozenset({("companies", 200)}),
    ),
    Record(
        3,
        {
            "firstname": "Carol",
            "email": "",  # empty counts as no value
            "notes": "Pricing: 100%_off",
            "amount": "abc",  # a bad stored number: never raises, compares as absent
            "closedate": "2023-02-30",  # rolls over to 2023-03-02
            "lastseen": "not a date",
            "vip": "TRUE",
            "tags": "bronze",
            "phone": "+1 555",
        },
    ),
    Record(
        4,
        {"email": "dave@example.com", "amount": "12.50", "tags": "gold"},
        frozenset({("companies", 100)}),
    ),
    Record(
        5,
        {
            "firstname": "ALICE",
            "email": "eve@sub.example.com",
            "amount": "-3e2",
            "lastseen": "1705312800000",  # 2024-01-15T10:00Z
        },
        frozenset({("deals", 100)}),
    ),
    Record(6, {"firstname": "Alice", "amount": "9"}, archived=True),
]
for _record in RECORDS:
    _record.properties["hs_object_id"] = str(_record.record_id)


def one(name: str, operator: str, value: Any = None, **extra: Any) -> dict[str, Any]:
    """A body with one filter."""
    condition: dict[str, Any] = {"propertyName": name, "operator": operator, **extra}
    if value is not None:
        condition["value"] = value
    return {"filterGroups": [{"filters": [condition]}]}


# (case name, request body, ids expected) -- R-SRCH-1
CASES: list[tuple[str, dict[str, Any], list[int]]] = [
    ("no filters: every live record", {}, [1, 2, 3, 4, 5]),
    ("string EQ is case-insensitive", one("firstname", "EQ", "alice"), [1, 5]),
    ("string NEQ includes records without it", one("firstname", "NEQ", "alice"), [2, 3, 4]),
    ("string LT by lower-cased code point", one("firstname", "LT", "B"), [1, 5]),
    ("string IN", one("firstname", "IN", values=["BOB", "carol"]), [2, 3]),
    ("unknown type compares as string", one("phone", "EQ", "+1 555"), [3]),
    ("number EQ numerically", one("amount", "EQ", "10.0"), [2]),
    ("number 9 < 10", one("amount", "LT", "10"), [1, 5]),
    ("number GT", one("amount", "GT", "9"), [2, 4]),
    ("number GTE from a JSON number", one("amount", "GTE", 9), [1, 2, 4]),
    ("number LTE exponent", one("amount", "LTE", "-300"), [5]),
    ("number BETWEEN inclusive", one("amount", "BETWEEN", "9", highValue="12.5"), [1, 2, 4]),
    ("number IN", one("amount", "IN", values=["9", "12.5"]), [1, 4]),
    ("number NOT_IN", one("amount", "NOT_IN", values=["9", "12.5"]), [2, 3, 5]),
    ("HAS_PROPERTY ignores empty", one("email", "HAS_PROPERTY"), [1, 2, 4, 5]),
    ("HAS_PROPERTY counts a bad number", one("amount", "HAS_PROPERTY"), [1, 2, 3, 4, 5]),
    ("NOT_HAS_PROPERTY", one("firstname", "NOT_HAS_PROPERTY"), [4]),
    ("date EQ ISO vs epoch stored", one("closedate", "EQ", "2024-01-16"), [2]),
    ("date EQ epoch ms", one("closedate", "EQ", "1705363200000"), [2]),
    ("date GT", one("closedate", "GT", "2024-01-15"), [2]),
    ("date LT, rolled-over day", one("closedate", "LT", "2024-01-01"), [3]),
    ("date EQ rolled-over day", one("closedate", "EQ", "2023-03-02"), [3]),
    (
        "datetime EQ across zones and epoch",
        one("lastseen", "EQ", "2024-01-15T10:00:00.000Z"),
        [1, 2, 5],
    ),
    (
        "datetime BETWEEN",
        one("lastseen", "BETWEEN", "2024-01-15T09:59:59Z", highValue="1705312800000"),
        [1, 2, 5],
    ),
    ("datetime LT by a millisecond", one("lastseen", "LT", "2024-01-15T10:00:00.001Z"), [1, 2, 5]),
    ("datetime GT nothing later", one("lastseen", "GT", "2024-01-15T10:00:00+00:00"), []),
    ("datetime NEQ", one("lastseen", "NEQ", "1705312800000"), [3, 4]),
    ("bool EQ", one("vip", "EQ", "true"), [1, 3]),
    ("bool EQ JSON false", one("vip", "EQ", False), [2]),
    ("bool NEQ", one("vip", "NEQ", True), [2, 4, 5]),
    ("enumeration EQ one option of a multi-select", one("tags", "EQ", "silver"), [1, 2]),
    ("enumeration EQ is case-sensitive", one("tags", "EQ", "Silver"), []),
    ("enumeration EQ whole value", one("tags", "EQ", "gold;silver"), [1]),
    ("enumeration IN any option", one("tags", "IN", values=["gold", "bronze"]), [1, 3, 4]),
    ("enumeration NOT_IN", one("tags", "NOT_IN", values=["gold"]), [2, 3, 5]),
    ("CONTAINS_TOKEN trims punctuation", one("notes", "CONTAINS_TOKEN", "KEEN"), [1, 2]),
    ("CONTAINS_TOKEN prefix wildcard", one("notes", "CONTAINS_TOKEN", "pric*"), [2, 3]),
    ("CONTAINS_TOKEN email domain", one("email", "CONTAINS_TOKEN", "*@example.com"), [1, 4]),
    ("CONTAINS_TOKEN % and _ are literal", one("notes", "CONTAINS_TOKEN", "100%_off"), [3]),
    ("CONTAINS_TOKEN every token", one("notes", "CONTAINS_TOKEN", "fair keen"), [1]),
    ("NOT_CONTAINS_TOKEN", one("notes", "NOT_CONTAINS_TOKEN", "keen"), [3, 4, 5]),
    ("hs_object_id is a number", one("hs_object_id", "GT", "3"), [4, 5]),
    ("associations EQ", one("associations.company", "EQ", "100"), [1, 4]),
    ("associations IN, plural name", one("associations.companies", "IN", values=["200"]), [2]),
    ("associations keep the type apart", one("associations.deal", "EQ", 100), [5]),
    ("associations NEQ", one("associations.company", "NEQ", "100"), [2, 3, 5]),
    ("associations NOT_HAS_PROPERTY", one("associations.company", "NOT_HAS_PROPERTY"), [3, 5]),
    (
        "groups are ORed",
        {
            "filterGroups": [
                {"filters": [{"propertyName": "firstname", "operator": "EQ", "value": "bob"}]},
                {"filters": [{"propertyName": "amount", "operator": "GT", "value": "10"}]},
            ]
        },
        [2, 4],
    ),
    (
        "filters in a group are ANDed",
        {
            "filterGroups": [
                {
                    "filters": [
                        {"propertyName": "firstname", "operator": "EQ", "value": "alice"},
                        {"propertyName": "vip", "operator": "EQ", "value": "true"},
                    ]
                }
            ]
        },
        [1],
    ),
]


def python_ids(body: dict[str, Any]) -> list[int]:
    query = parse_search_request(body)
    return [
        r.record_id
        for r in RECORDS
        if record_matches(r.properties, r.archived, query, PROPERTY_TYPES, r.associations)
    ]


@pytest.mark.parametrize("name, body, expected", CASES, ids=[c[0] for c in CASES])
def test_python_evaluator_returns_the_expected_records(name, body, expected):
    # R-SRCH-1 every operator and type, R-SRCH-4 the evaluator behind the explanation
    assert python_ids(body) == expected
