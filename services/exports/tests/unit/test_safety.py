import pytest

from crm_exports.domain.safety import FORMULA_TRIGGERS, cell_value, neutralise

# R-EXP-6: one case per character a spreadsheet would start a formula with
DANGEROUS = ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1+1", "\r=1+1"]


def test_every_trigger_has_a_case():
    assert {value[0] for value in DANGEROUS} == set(FORMULA_TRIGGERS)


@pytest.mark.parametrize("value", DANGEROUS)
def test_formula_text_is_prefixed_with_a_quote(value):
    # R-EXP-6
    assert neutralise(value) == "'" + value
    assert cell_value(value, "string") == "'" + value


@pytest.mark.parametrize("value", ["Acme", "a=b", "1+1", "", "'=already"])
def test_harmless_text_is_left_alone(value):
    assert neutralise(value) == value


@pytest.mark.parametrize(
    "raw, expected",
    [("-12.5", -12.5), ("42", 42), ("+7", 7), ("0", 0), (" 3.25 ", 3.25), (-3, -3), (2.5, 2.5)],
)
def test_number_typed_values_stay_numbers(raw, expected):
    # R-EXP-6: a number cell cannot hold a formula, so it is not neutralised
    value = cell_value(raw, "number")
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize("raw", ["=1+1", "-1+1", "nan", "inf", "1e999", "twelve"])
def test_number_typed_values_that_are_not_numbers_are_neutralised_text(raw):
    # R-EXP-6
    assert cell_value(raw, "number") == neutralise(raw)
    assert isinstance(cell_value(raw, "number"), str)


def test_negative_number_in_a_text_property_is_neutralised():
    # R-EXP-6: only number-typed properties become numbers
    assert cell_value("-12.5", "string") == "'-12.5"


def test_dates_stay_iso_text_and_empty_is_empty():
    from datetime import UTC, date, datetime

    assert cell_value("2024-03-01", "date") == "2024-03-01"
    assert cell_value(date(2024, 3, 1), "date") == "2024-03-01"
    assert cell_value(datetime(2024, 3, 1, 9, 30, tzinfo=UTC), "datetime") == (
        "2024-03-01T09:30:00+00:00"
    )
    assert cell_value(None, "number") == ""
    assert cell_value(True, "bool") == "true"
