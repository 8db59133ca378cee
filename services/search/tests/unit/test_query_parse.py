"""Parsing and capping hosted search bodies (R-SRCH-1)."""

import pytest

from crm_search.domain.query import (
    HOSTED_VALIDATION_MESSAGE,
    Operator,
    SearchRequestInvalid,
    Sort,
    SortDirection,
    parse_search_request,
)


def filt(name="email", operator="EQ", value="a@b.c", **extra):
    return {"propertyName": name, "operator": operator, "value": value, **extra}


def groups(*sizes):
    return {"filterGroups": [{"filters": [filt() for _ in range(n)]} for n in sizes]}


def refused(body) -> SearchRequestInvalid:
    with pytest.raises(SearchRequestInvalid) as caught:
        parse_search_request(body)
    return caught.value


def test_defaults_for_an_empty_body():
    # R-SRCH-1
    query = parse_search_request({})
    assert (query.filter_groups, query.sorts, query.query) == ((), (), None)
    assert (query.limit, query.after, query.properties) == (10, 0, ())
    assert parse_search_request(None) == query


def test_a_full_body_is_parsed_into_frozen_values():
    # R-SRCH-1
    query = parse_search_request(
        {
            "filterGroups": [
                {"filters": [filt("amount", "BETWEEN", "1", highValue=5)]},
                {"filters": [{"propertyName": "tags", "operator": "IN", "values": ["a", 2]}]},
            ],
            "sorts": [{"propertyName": "createdate", "direction": "DESCENDING"}, "-amount", "x"],
            "query": "  ann  ",
            "properties": ["email", "firstname"],
            "limit": 200,
            "after": "9800",
        }
    )
    between, in_filter = query.filters
    assert (between.operator, between.value, between.high_value) == (Operator.BETWEEN, "1", "5")
    assert (in_filter.values, in_filter.group_index, in_filter.path) == (
        ("a", "2"),
        1,
        "filterGroups[1].filters[0]",
    )
    assert query.sorts == (
        Sort("createdate", SortDirection.DESCENDING),
        Sort("amount", SortDirection.DESCENDING),
        Sort("x", SortDirection.ASCENDING),
    )
    assert (query.query, query.properties, query.limit, query.after) == (
        "ann",
        ("email", "firstname"),
        200,
        9800,
    )
    with pytest.raises(AttributeError):
        query.limit = 5  # frozen


def test_five_groups_six_filters_and_eighteen_in_all_are_allowed():
    # R-SRCH-1: the hosted caps, at the edge
    assert len(parse_search_request(groups(6, 6, 6)).filters) == 18
    assert len(parse_search_request(groups(1, 1, 1, 1, 1)).filter_groups) == 5


@pytest.mark.parametrize(
    "body, code, words",
    [
        (groups(1, 1, 1, 1, 1, 1), "TOO_MANY_FILTER_GROUPS", "Too many filterGroups: 6"),
        (groups(7), "TOO_MANY_FILTERS", "filterGroups[0]: 7"),
        (groups(6, 6, 6, 1), "TOO_MANY_FILTERS", "Too many filters: 19"),
        ({"limit": 201}, "TOO_LARGE", "limit 201"),
        ({"limit": 100, "after": "9901"}, "TOO_MANY_RESULTS", "10001"),
        ({"after": "10000"}, "TOO_MANY_RESULTS", "is 10010"),
    ],
)
def test_the_caps_are_refused_in_the_hosted_shape(body, code, words):
    # R-SRCH-1
    error = refused(body)
    assert error.message == HOSTED_VALIDATION_MESSAGE
    assert error.category == "VALIDATION_ERROR"
    assert code in [e.code for e in error.errors]
    assert words in str(error)
    assert error.hosted_errors()[0].keys() == {"message", "in", "code"}


def test_paging_right_up_to_ten_thousand_is_allowed():
    # R-SRCH-1
    assert parse_search_request({"limit": 200, "after": "9800"}).after == 9800
    assert parse_search_request({"limit": 0, "after": 10000}).limit == 0


@pytest.mark.parametrize("limit", [-1, "10", 2.5, True])
def test_limit_must_be_an_integer(limit):
    # R-SRCH-1
    assert refused({"limit": limit}).errors[0].in_ == "limit"


@pytest.mark.parametrize("after", ["-1", "abc", "1.5", -3, [1]])
def test_after_must_be_a_non_negative_integer(after):
    # R-SRCH-1
    assert refused({"after": after}).errors[0].in_ == "after"


def test_unknown_operator_names_the_operator_and_property():
    # R-SRCH-1
    error = refused({"filterGroups": [{"filters": [filt("amount", "LIKE")]}]})
    assert "'LIKE'" in str(error) and "'amount'" in str(error)
    assert error.errors[0].in_ == "filterGroups[0].filters[0].operator"


@pytest.mark.parametrize(
    "condition, where",
    [
        ({"propertyName": "amount", "operator": "EQ"}, "value"),
        ({"propertyName": "amount", "operator": "CONTAINS_TOKEN"}, "value"),
        ({"propertyName": "amount", "operator": "BETWEEN", "value": "1"}, "highValue"),
        ({"propertyName": "amount", "operator": "IN", "values": []}, "values"),
        ({"propertyName": "amount", "operator": "NOT_IN"}, "values"),
        ({"propertyName": "amount", "operator": "EQ", "value": {"x": 1}}, "value"),
        ({"propertyName": "", "operator": "EQ", "value": "1"}, "propertyName"),
        ({"operator": "EQ", "value": "1"}, "propertyName"),
    ],
)
def test_missing_or_malformed_operands_name_the_field(condition, where):
    # R-SRCH-1
    error = refused({"filterGroups": [{"filters": [condition]}]})
    assert error.errors[0].in_ == f"filterGroups[0].filters[0].{where}"


def test_every_problem_is_listed_at_once():
    # R-SRCH-1
    error = refused({"limit": 500, "after": "x", "sorts": [{"direction": "UP"}], "query": 3})
    assert [e.in_ for e in error.errors] == ["sorts[0]", "query", "limit", "after"]


def test_bad_sort_direction():
    # R-SRCH-1
    error = refused({"sorts": [{"propertyName": "amount", "direction": "UP"}]})
    assert error.errors[0].in_ == "sorts[0].direction"


def test_has_property_needs_no_value_and_json_scalars_become_strings():
    # R-SRCH-1
    query = parse_search_request(
        {
            "filterGroups": [
                {
                    "filters": [
                        {"propertyName": "email", "operator": "HAS_PROPERTY"},
                        filt("vip", "EQ", True),
                        filt("amount", "GT", 12.5),
                        filt("amount", "LT", 7),
                    ]
                }
            ]
        }
    )
    assert [f.value for f in query.filters] == [None, "true", "12.5", "7"]


def test_association_pseudo_properties():
    # R-SRCH-1: associations.company EQ <id>, as the hosted API has
    query = parse_search_request(
        {"filterGroups": [{"filters": [filt("associations.company", "EQ", "123")]}]}
    )
    assert query.filters[0].association_type == "companies"
    assert (
        parse_search_request({"filterGroups": [{"filters": [filt("associations.2-99", "EQ", 5)]}]})
        .filters[0]
        .association_type
        == "2-99"
    )
    assert "is not one" in str(
        refused({"filterGroups": [{"filters": [filt("associations.company", "EQ", "abc")]}]})
    )
    assert "not supported" in str(
        refused({"filterGroups": [{"filters": [filt("associations.company", "GT", "1")]}]})
    )
    assert refused({"filterGroups": [{"filters": [filt("associations.", "EQ", "1")]}]})


def test_next_after_stops_at_the_last_page_and_at_ten_thousand():
    # R-SRCH-1: cursor paging
    assert parse_search_request({"limit": 10}).next_after(25) == "10"
    assert parse_search_request({"limit": 10, "after": "20"}).next_after(25) is None
    assert parse_search_request({"limit": 200, "after": "9800"}).next_after(50_000) is None
    assert parse_search_request({"limit": 0}).next_after(5) is None
