"""One condition on one property value: `score >= 9`, `industry in (A, B)`, `renewal is known`.

Used by property rules (on the customer's properties) and by the AND part of event
rules (on an engagement's own properties). Values arrive as strings, the way record
properties are stored; the property's type (R-REC-2: string, number, date, datetime,
enumeration, bool) says how to read and compare them.

An unknown value (None or "", the way a cleared property reads) satisfies only
`is_unknown`; every other operator needs a known value, so `neq X` never matches a
customer that has no value at all.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

PROPERTY_TYPES = frozenset({"string", "number", "date", "datetime", "enumeration", "bool"})
ORDERED_TYPES = frozenset({"number", "date", "datetime"})

SINGLE_VALUE_OPERATORS = frozenset({"eq", "neq", "gt", "gte", "lt", "lte"})
ORDERING_OPERATORS = frozenset({"gt", "gte", "lt", "lte", "between"})
LIST_OPERATORS = frozenset({"in", "not_in"})
PRESENCE_OPERATORS = frozenset({"is_known", "is_unknown"})
OPERATORS = SINGLE_VALUE_OPERATORS | LIST_OPERATORS | PRESENCE_OPERATORS | {"between"}

_SYMBOLS = {"eq": "=", "neq": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


@dataclass(frozen=True)
class Condition:
    """`property operator value`; `values` holds the list for in/not_in and (low, high)
    for between, both ends included."""

    property: str
    operator: str
    value: str | None = None
    values: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.operator in PRESENCE_OPERATORS:
            return f"{self.property} {self.operator.replace('_', ' ')}"
        if self.operator == "between":
            return f"{self.property} between {' and '.join(self.values)}"
        if self.operator in LIST_OPERATORS:
            word = "in" if self.operator == "in" else "not in"
            return f"{self.property} {word} ({', '.join(self.values)})"
        return f"{self.property} {_SYMBOLS[self.operator]} {self.value}"


def is_known(raw: str | None) -> bool:
    return raw is not None and raw != ""


def parse_value(value_type: str, raw: str) -> Any:
    """The comparable form of a stored string; ValueError when it does not fit the type."""
    if value_type == "number":
        number = float(raw)
        if number != number or number in (float("inf"), float("-inf")):
            raise ValueError("not a finite number")
        return number
    if value_type == "bool":
        lowered = raw.strip().lower()
        if lowered not in ("true", "false"):
            raise ValueError("not true or false")
        return lowered == "true"
    if value_type == "date":
        if raw.isdigit():  # epoch milliseconds at midnight UTC, as the hosted API sends dates
            return datetime.fromtimestamp(int(raw) / 1000, UTC).date()
        return date.fromisoformat(raw[:10]) if len(raw) > 10 else date.fromisoformat(raw)
    if value_type == "datetime":
        if raw.isdigit():
            return datetime.fromtimestamp(int(raw) / 1000, UTC)
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if value_type == "string":
        return raw.casefold()  # free text compares case-insensitively, like search filters
    return raw  # enumeration: internal option names compare exactly


def condition_errors(condition: Condition, value_type: str) -> list[tuple[str, str]]:
    """What is wrong with this condition for a property of this type, as (field, message)."""
    op = condition.operator
    if op not in OPERATORS:
        return [("operator", f"unknown operator '{op}'; use one of {', '.join(sorted(OPERATORS))}")]
    if op in ORDERING_OPERATORS and value_type not in ORDERED_TYPES:
        return [("operator", f"'{op}' needs a number, date or datetime property; "
                             f"'{condition.property}' is {value_type}")]
    errors: list[tuple[str, str]] = []
    if op in PRESENCE_OPERATORS:
        if condition.value is not None or condition.values:
            errors.append(("value", f"'{op}' takes no value"))
        return errors
    if op in SINGLE_VALUE_OPERATORS:
        if condition.values or condition.value is None:
            return [("value", f"'{op}' takes exactly one value")]
        raws = [condition.value]
    elif op == "between":
        if condition.value is not None or len(condition.values) != 2:
            return [("values", "'between' takes exactly two values: low and high")]
        raws = list(condition.values)
    else:
        if condition.value is not None or not condition.values:
            return [("values", f"'{op}' takes a list of one or more values")]
        raws = list(condition.values)
    parsed = []
    for raw in raws:
        try:
            parsed.append(parse_value(value_type, raw))
        except (ValueError, OverflowError):
            errors.append(
                ("value", f"'{raw}' is not a valid {value_type} for '{condition.property}'"))
    if op == "between" and not errors and parsed[0] > parsed[1]:
        errors.append(("values", f"between: low {raws[0]} is above high {raws[1]}"))
    return errors


Predicate = Callable[[str | None], bool]


@lru_cache(maxsize=4096)
def compile_condition(condition: Condition, value_type: str) -> Predicate:
    """A predicate on a raw stored value; values that do not parse never match.

    Cached because profiles are few and customers many: each condition is read once.
    The predicate is one closure over a ready parser and comparison (it runs for every
    event of every customer in a recompute). The condition must already be valid (see
    condition_errors)."""
    op = condition.operator
    if op == "is_known":
        return is_known
    if op == "is_unknown":
        return lambda raw: not is_known(raw)
    parse = _PARSERS.get(value_type) or (lambda raw: parse_value(value_type, raw))
    if op in SINGLE_VALUE_OPERATORS:
        compare, target = _COMPARISONS[op], parse_value(value_type, condition.value)  # type: ignore[arg-type]

        def test(value: Any) -> bool:
            return compare(value, target)
    elif op == "between":
        low, high = (parse_value(value_type, raw) for raw in condition.values)

        def test(value: Any) -> bool:
            return low <= value <= high
    else:
        members = frozenset(parse_value(value_type, raw) for raw in condition.values)
        wanted = op == "in"

        def test(value: Any) -> bool:
            return (value in members) is wanted

    def predicate(raw: str | None) -> bool:
        if raw is None or raw == "":
            return False  # unknown: only is_unknown matches
        try:
            value = parse(raw)
        except (ValueError, OverflowError):
            return False
        return test(value)
    return predicate


def _parse_number(raw: str) -> float:
    number = float(raw)
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    return number


# The common types' parsers, the same readings as parse_value without its dispatch.
_PARSERS: dict[str, Callable[[str], Any]] = {
    "number": _parse_number,
    "string": str.casefold,
    "enumeration": str,
}
_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq, "neq": operator.ne, "gt": operator.gt, "gte": operator.ge,
    "lt": operator.lt, "lte": operator.le,
}
