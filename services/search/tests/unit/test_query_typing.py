"""Typed comparison rules shared by SQL and Python (R-SRCH-1)."""

from decimal import Decimal

import pytest

from crm_search.domain.query import SearchRequestInvalid, parse_search_request
from crm_search.domain.typing import (
    PropertyType,
    parse_epoch_millis,
    parse_number,
    property_type,
    search_terms,
    stored_comparable,
    tokens,
    type_query,
)

TYPES = {"amount": "number", "closedate": "date", "seen": "datetime", "vip": "bool"}


def typed_operands(name, operator, **operands):
    body = {
        "filterGroups": [{"filters": [{"propertyName": name, "operator": operator, **operands}]}]
    }
    return type_query(parse_search_request(body), TYPES).groups[0][0].operands


def test_types_fall_back_to_builtins_then_string():
    # R-SRCH-1
    assert property_type("amount", TYPES) is PropertyType.NUMBER
    assert property_type("hs_object_id", {}) is PropertyType.NUMBER
    assert property_type("createdate", {}) is PropertyType.DATETIME
    assert property_type("phone", {"phone": "phone_number"}) is PropertyType.STRING
    assert property_type("nobody_declared_me", {}) is PropertyType.STRING


@pytest.mark.parametrize(
    "text, number",
    [("9", 9), ("10", 10), ("-3e2", -300), ("12.50", Decimal("12.5")), (".5", Decimal("0.5"))],
)
def test_numbers_parse_exactly(text, number):
    # R-SRCH-1
    assert parse_number(text) == number


@pytest.mark.parametrize("text", ["abc", "1,5", " 9", "1e1000", "0x10", "NaN", "Infinity", ""])
def test_not_numbers(text):
    # R-SRCH-1
    assert parse_number(text) is None


def test_nine_is_less_than_ten_numerically():
    # R-SRCH-1: the classic string-compare bug
    assert stored_comparable(PropertyType.NUMBER, "9") < stored_comparable(
        PropertyType.NUMBER, "10"
    )
    assert stored_comparable(PropertyType.STRING, "9") > stored_comparable(
        PropertyType.STRING, "10"
    )


@pytest.mark.parametrize(
    "text",
    [
        "1705312800000",
        "2024-01-15T10:00:00Z",
        "2024-01-15T10:00Z",
        "2024-01-15 10:00:00.000",
        "2024-01-15T12:00:00+02:00",
        "2024-01-15T07:30:00-0230",
        "2024-01-15T10:00:00.0004Z",
    ],
)
def test_the_same_instant_in_every_accepted_form(text):
    # R-SRCH-1: dates from epoch ms and ISO compare as timestamps
    assert parse_epoch_millis(text) == 1705312800000


def test_dates_and_rollover_of_stored_days():
    # R-SRCH-1
    assert parse_epoch_millis("1970-01-01") == 0
    assert parse_epoch_millis("1969-12-31") == -86_400_000
    assert parse_epoch_millis("2024-01-15T10:00:00.5Z") == 1705312800500
    assert parse_epoch_millis("2023-02-30") == parse_epoch_millis("2023-03-02")


@pytest.mark.parametrize(
    "text", ["not a date", "2024-13-01", "2024-1-5", "0000-01-01", "2024-01-15T24:00", "15/01/2024"]
)
def test_not_timestamps(text):
    # R-SRCH-1
    assert parse_epoch_millis(text) is None


def test_stored_values_in_comparison_form():
    # R-SRCH-1
    assert stored_comparable(PropertyType.BOOL, "TRUE") is True
    assert stored_comparable(PropertyType.BOOL, "no") is None
    assert stored_comparable(PropertyType.BOOL, False) is False
    assert stored_comparable(PropertyType.STRING, "Ann") == "ann"
    assert stored_comparable(PropertyType.ENUMERATION, "Ann") == "Ann"
    assert stored_comparable(PropertyType.NUMBER, "") is None
    assert stored_comparable(PropertyType.STRING, None) is None


def test_filter_values_are_normalised_by_type():
    # R-SRCH-1
    assert typed_operands("amount", "BETWEEN", value="9", highValue=" 10 ") == (9, 10)
    assert typed_operands("closedate", "EQ", value="2024-01-16") == (1705363200000,)
    assert typed_operands("seen", "IN", values=["1705312800000", "2024-01-15T10:00Z"]) == (
        1705312800000,
        1705312800000,
    )
    assert typed_operands("vip", "EQ", value="False") == (False,)
    assert typed_operands("name", "EQ", value="ANN") == ("ann",)
    assert typed_operands("name", "CONTAINS_TOKEN", value="Ann, *@X.com") == ("ann", "*@x.com")
    assert typed_operands("name", "HAS_PROPERTY") == ()


@pytest.mark.parametrize(
    "name, operator, operands, words",
    [
        ("amount", "EQ", {"value": "abc"}, "'abc' is not a valid value for property 'amount'"),
        ("amount", "IN", {"values": ["1", "x"]}, "'x' is not a valid value for property 'amount'"),
        ("closedate", "GT", {"value": "2023-02-30"}, "'closedate'"),
        ("seen", "LT", {"value": "yesterday"}, "ISO 8601"),
        ("vip", "EQ", {"value": "yes"}, "true or false"),
        ("vip", "GT", {"value": "true"}, "cannot compare bool property 'vip'"),
        ("name", "CONTAINS_TOKEN", {"value": " ,; "}, "needs a token"),
    ],
)
def test_values_that_do_not_fit_the_type_name_the_property(name, operator, operands, words):
    # R-SRCH-1 (and R-REC-2's "a bad value answers 400 naming the property")
    with pytest.raises(SearchRequestInvalid) as caught:
        typed_operands(name, operator, **operands)
    assert words in str(caught.value)
    assert caught.value.errors[0].in_.startswith("filterGroups[0].filters[0]")


def test_the_error_points_at_the_bad_item_of_a_list():
    # R-SRCH-1
    with pytest.raises(SearchRequestInvalid) as caught:
        typed_operands("amount", "NOT_IN", values=["1", "2", "x"])
    assert caught.value.errors[0].in_ == "filterGroups[0].filters[0].values[2]"


def test_sorting_by_an_association_is_refused():
    # R-SRCH-1
    with pytest.raises(SearchRequestInvalid, match="Cannot sort"):
        type_query(parse_search_request({"sorts": ["associations.company"]}), {})


def test_tokens_and_search_terms():
    # R-SRCH-1
    assert tokens("Met at the fair, very keen.") == ["met", "at", "the", "fair", "very", "keen"]
    assert tokens("a\tb\nc") == ["a", "b", "c"]
    assert search_terms("  Ann o'brien a&b !! :* ") == ("Ann", "obrien", "ab")
    assert search_terms("") == ()
