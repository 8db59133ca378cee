"""Number ranges answered by index terms are exactly the Decimal comparison (R-SRCH-1)."""

import random
from decimal import Decimal

import pytest

from crm_search.domain.number_terms import LIMIT, range_terms, stored_terms
from crm_search.domain.query import Operator

EDGES = ["0", "-0", "0.5", "-0.5", "1", "-1", "9", "10", "49", "49.99", "50", "50.0", "50.5",
         "51", "59", "60", "99", "99.9", "100", "999", "1000", "-9", "-10", "-10.5", "-11",
         "-99", "-100", "1e3", "1.5e2", ".5", "5.", "+7", str(LIMIT - 1), str(LIMIT),
         str(LIMIT) + ".5", str(-LIMIT), str(-LIMIT) + ".5", str(-LIMIT - 1), "1e20", "-1e20",
         "1e-999", "1e999", "-1e999", "123456789012345", "-123456789012345.5"]
OPERATORS = [Operator.GT, Operator.GTE, Operator.LT, Operator.LTE, Operator.BETWEEN]


def holds(value: Decimal, operator: Operator, operands: list[Decimal]) -> bool:
    low = operands[0]
    return {Operator.GT: value > low, Operator.GTE: value >= low, Operator.LT: value < low,
            Operator.LTE: value <= low,
            Operator.BETWEEN: low <= value <= operands[-1]}[operator]


def answered_by_terms(value: Decimal, operator: Operator, operands: list[Decimal]) -> bool:
    terms = range_terms("score", operator, operands)
    assert terms is not None
    return bool(set(stored_terms("score", value)) & set(terms))


@pytest.mark.parametrize("operator", OPERATORS)
def test_edges_match_exactly_as_decimals_compare(operator):
    # R-SRCH-1: numbers compare as numbers, also when the GIN terms answer
    bounds = [Decimal(b) for b in ["0", "-1", "1", "9", "10", "50", "-50", "99", "100",
                                   "-100", "999999", str(LIMIT - 2), str(-LIMIT + 1)]]
    for value in map(Decimal, EDGES):
        for low in bounds:
            for high in (bounds if operator is Operator.BETWEEN else [low]):
                operands = [low, high] if operator is Operator.BETWEEN else [low]
                assert answered_by_terms(value, operator, operands) is holds(
                    value, operator, operands), (value, operator, operands)


def test_random_values_and_ranges_match_as_decimals_compare():
    # R-SRCH-1
    draw = random.Random(11)

    def number() -> Decimal:
        magnitude = draw.choice([10, 1000, 10**6, 10**15])
        whole = draw.randint(-magnitude, magnitude)
        return Decimal(whole) + (Decimal(draw.randint(1, 99)) / 100 if draw.random() < .3 else 0)

    for _ in range(4000):
        value = number()
        operator = draw.choice(OPERATORS)
        operands = sorted(Decimal(int(number())) for _ in range(2))
        if operator is not Operator.BETWEEN:
            operands = operands[:1]
        if abs(operands[0]) >= LIMIT - 1 or abs(operands[-1]) >= LIMIT - 1:
            continue
        assert answered_by_terms(value, operator, operands) is holds(value, operator, operands)


def test_reversed_between_matches_nothing():
    # R-SRCH-1
    assert range_terms("score", Operator.BETWEEN, [Decimal(5), Decimal(4)]) == []


@pytest.mark.parametrize("operands", [[Decimal("50.5")], [Decimal(LIMIT)], [Decimal(-LIMIT)],
                                      [Decimal("1e20")]])
def test_fractions_and_huge_operands_fall_back_to_the_typed_comparison(operands):
    # R-SRCH-1: the terms only answer whole numbers well inside +-10**15
    assert range_terms("score", Operator.GT, operands) is None


def test_stored_terms_name_the_digits_and_a_fraction():
    assert stored_terms("score", Decimal("50")) == ["score#pd2", "score#p2:5", "score#p2:50"]
    assert stored_terms("score", Decimal("50.5"))[-1] == "score#p2:50."
    assert stored_terms("score", Decimal("-0.5")) == ["score#nd1", "score#n1:1."]
    assert stored_terms("score", Decimal("1e20")) == ["score#max"]


def test_a_range_is_a_short_list():
    # `score > 50`: 13 digit counts, #max, 6..9, 51..59 whole and fraction, and 50.
    terms = range_terms("score", Operator.GT, [Decimal(50)])
    assert terms is not None and len(terms) == 13 + 1 + 4 + 18 + 1
