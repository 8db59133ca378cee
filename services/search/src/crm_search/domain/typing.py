"""Typed comparison rules shared by the SQL compiler and the Python evaluator (R-SRCH-1).

Every property is stored as the hosted CRM's string value. A filter compares it
according to the property's type:

- number: as an exact decimal, so "9" < "10". A stored value that is not a
  number (see NUMBER_PATTERN) compares as absent; a filter value that is not a
  number is refused, naming the property.
- date, datetime: as epoch milliseconds. Stored and filter values may be epoch
  milliseconds ("1700000000000") or ISO 8601 ("2024-01-15",
  "2024-01-15T10:00:00Z", "...+02:00"; no zone means UTC). The conversion is
  plain arithmetic, never a cast that could raise on a bad stored value: a day
  past the end of its month rolls over (stored "2023-02-30" is 2023-03-02), as
  the SQL does; filter values must be real calendar dates.
- bool: "true" / "false", case-insensitive.
- enumeration: exact, case-sensitive strings. A multi-select value holds its
  options separated by ";": EQ and IN match when the whole value or any one
  option matches.
- string (and any unknown type): case-insensitive, as the hosted API does;
  LT/GT order by code point of the lower-cased text (SQL: COLLATE "C").

For every operator, an empty string counts as no value. Negated operators
(NEQ, NOT_IN, NOT_HAS_PROPERTY, NOT_CONTAINS_TOKEN) match exactly the records
their positive form does not, records without the value included.

CONTAINS_TOKEN: the stored text is lower-cased and split on ASCII whitespace;
each piece is trimmed of surrounding punctuation (TOKEN_TRIM_CHARS) and is a
token. The filter value is split the same way; every one of its tokens must
equal some stored token, where `*` in the filter matches any run of characters
("*@example.com" matches the email "ann@example.com").

The regular expressions below are written so that Python's `re.fullmatch` and
PostgreSQL's `~ '^(?:...)$'` accept the same texts and capture the same groups.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from crm_search.domain.query import (
    NEGATED,
    RANGE_OPERATORS,
    FieldError,
    Filter,
    Operator,
    SearchQuery,
    SearchRequestInvalid,
    SortDirection,
)


class PropertyType(StrEnum):
    STRING = "string"
    NUMBER = "number"
    DATE = "date"
    DATETIME = "datetime"
    ENUMERATION = "enumeration"
    BOOL = "bool"


# Properties every hosted object has; used when the caller's type map lacks them.
BUILTIN_PROPERTY_TYPES: dict[str, PropertyType] = {
    "hs_object_id": PropertyType.NUMBER,
    "createdate": PropertyType.DATETIME,
    "hs_createdate": PropertyType.DATETIME,
    "lastmodifieddate": PropertyType.DATETIME,
    "hs_lastmodifieddate": PropertyType.DATETIME,
}

NUMBER_PATTERN = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?"
# Groups: 1 epoch ms | 2 year, 3 month, 4 day, 5 hour, 6 minute, 7 second,
# 8 fraction, 9 zone, 10 zone sign, 11 zone hours, 12 zone minutes.
TIMESTAMP_PATTERN = (
    r"(-?[0-9]{1,15})"
    r"|([0-9]{4})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"(?:[T ]([01][0-9]|2[0-3]):([0-5][0-9])(?::([0-5][0-9])(?:\.([0-9]+))?)?"
    r"(Z|([+-])([01][0-9]|2[0-3]):?([0-5][0-9]))?)?"
)
TOKEN_SEPARATOR_PATTERN = r"[ \t\n\r\f\v]+"
TOKEN_TRIM_CHARS = ",.;:!?\"'()[]{}<>"
MULTI_SELECT_SEPARATOR = ";"

_NUMBER = re.compile(NUMBER_PATTERN)
_TIMESTAMP = re.compile(TIMESTAMP_PATTERN)
_TOKEN_SEPARATOR = re.compile(TOKEN_SEPARATOR_PATTERN)
_EPOCH = date(1970, 1, 1)
_DAY_MS = 86_400_000


def property_type(name: str, property_types: Mapping[str, str]) -> PropertyType:
    """The declared type of a property; built-ins next; anything unknown is a string."""
    declared = property_types.get(name)
    if declared is None:
        return BUILTIN_PROPERTY_TYPES.get(name, PropertyType.STRING)
    try:
        return PropertyType(declared)
    except ValueError:
        return PropertyType.STRING  # phone_number, json, ...: compared as text


# --- stored values -------------------------------------------------------


def present(raw: Any) -> str | None:
    """The stored text, or None when the record has no value (missing, null or "")."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        text = "true" if raw else "false"
    else:
        text = str(raw)
    return text or None


def parse_number(text: str) -> Decimal | None:
    return Decimal(text) if _NUMBER.fullmatch(text) else None


def parse_epoch_millis(text: str) -> int | None:
    """Epoch milliseconds from epoch-ms or ISO text (see module doc), else None."""
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        return None
    if match[1] is not None:
        return int(match[1])
    year, month, day = int(match[2]), int(match[3]), int(match[4])
    if year == 0:
        return None  # PostgreSQL has no year 0; the SQL says the same
    days = (date(year, month, 1) - _EPOCH).days + day - 1
    millis = days * _DAY_MS
    millis += int(match[5] or 0) * 3_600_000 + int(match[6] or 0) * 60_000
    millis += int(match[7] or 0) * 1000 + int((match[8] or "")[:3].ljust(3, "0"))
    if match[10]:
        offset = int(match[11]) * 3_600_000 + int(match[12]) * 60_000
        millis += -offset if match[10] == "+" else offset
    return millis


def parse_bool(text: str) -> bool | None:
    return {"true": True, "false": False}.get(text.lower())


def stored_comparable(kind: PropertyType, raw: Any) -> Any | None:
    """A stored value in the form filters compare it in, or None if it has none."""
    text = present(raw)
    if text is None:
        return None
    if kind is PropertyType.NUMBER:
        return parse_number(text)
    if kind in (PropertyType.DATE, PropertyType.DATETIME):
        return parse_epoch_millis(text)
    if kind is PropertyType.BOOL:
        return parse_bool(text)
    if kind is PropertyType.ENUMERATION:
        return text
    return text.lower()


def tokens(text: str) -> list[str]:
    return [piece.strip(TOKEN_TRIM_CHARS) for piece in _TOKEN_SEPARATOR.split(text.lower())]


def token_matches(pattern: str, token: str) -> bool:
    """`*` matches any run of characters; everything else matches itself."""
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, token, re.DOTALL) is not None


# --- filters, typed --------------------------------------------------------


@dataclass(frozen=True)
class TypedFilter:
    """A filter with its operands converted to the property's comparison form.

    operands: one for EQ/NEQ/LT/LTE/GT/GTE, (low, high) for BETWEEN, the list for
    IN/NOT_IN, the lower-cased token patterns for (NOT_)CONTAINS_TOKEN, none for
    (NOT_)HAS_PROPERTY; record ids (int) for association filters.
    """

    filter: Filter
    kind: PropertyType | None  # None for an associations.<type> filter
    operands: tuple[Any, ...]

    @property
    def positive_operator(self) -> Operator:
        return NEGATED.get(self.filter.operator, self.filter.operator)

    @property
    def negated(self) -> bool:
        return self.filter.operator in NEGATED


@dataclass(frozen=True)
class TypedSort:
    property_name: str
    direction: SortDirection
    kind: PropertyType


@dataclass(frozen=True)
class TypedQuery:
    source: SearchQuery
    groups: tuple[tuple[TypedFilter, ...], ...]
    sorts: tuple[TypedSort, ...]
    search_terms: tuple[str, ...]


def type_query(query: SearchQuery, property_types: Mapping[str, str]) -> TypedQuery:
    """Convert every filter value by its property's type; refuse values that don't fit."""
    errors: list[FieldError] = []
    groups = tuple(
        tuple(
            typed
            for typed in (_type_filter(f, property_types, errors) for f in group.filters)
            if typed is not None
        )
        for group in query.filter_groups
    )
    sorts = []
    for index, sort in enumerate(query.sorts):
        if sort.property_name.startswith("associations."):
            errors.append(FieldError(f"Cannot sort by {sort.property_name}.", f"sorts[{index}]"))
            continue
        kind = property_type(sort.property_name, property_types)
        sorts.append(TypedSort(sort.property_name, sort.direction, kind))
    if errors:
        raise SearchRequestInvalid(errors)
    return TypedQuery(query, groups, tuple(sorts), search_terms(query.query))


def search_terms(text: str | None) -> tuple[str, ...]:
    """Words of the free-text query, each matched as a prefix of an indexed word.

    Pieces are split on whitespace and kept only if they hold a letter or digit;
    the characters that mean something to a tsquery are dropped, so any text is
    a safe query. No term left means no free-text condition (as an empty query).
    """
    if not text:
        return ()
    terms = []
    for piece in text.split():
        cleaned = re.sub(r"[&|!():*<>'\\]", "", piece)
        if re.search(r"\w", cleaned):
            terms.append(cleaned)
    return tuple(terms)


def _type_filter(
    source: Filter, property_types: Mapping[str, str], errors: list[FieldError]
) -> TypedFilter | None:
    if source.association_type is not None:
        ids = (
            source.values
            if source.operator in (Operator.IN, Operator.NOT_IN)
            else ((source.value,) if source.value is not None else ())
        )
        return TypedFilter(source, None, tuple(int(i) for i in ids))

    kind = property_type(source.property_name, property_types)
    operator = source.operator
    if operator in (Operator.HAS_PROPERTY, Operator.NOT_HAS_PROPERTY):
        return TypedFilter(source, kind, ())
    if operator in (Operator.CONTAINS_TOKEN, Operator.NOT_CONTAINS_TOKEN):
        assert source.value is not None
        patterns = tuple(t for t in tokens(source.value) if t)
        if not patterns:
            errors.append(
                FieldError(
                    f"{operator.value} on property {source.property_name!r} needs a token.",
                    f"{source.path}.value",
                )
            )
            return None
        return TypedFilter(source, kind, patterns)
    if kind is PropertyType.BOOL and operator in RANGE_OPERATORS:
        errors.append(
            FieldError(
                f"Operator {operator.value} cannot compare bool property {source.property_name!r}.",
                f"{source.path}.operator",
            )
        )
        return None

    raw: tuple[tuple[str | None, str], ...]
    if operator is Operator.BETWEEN:
        raw = ((source.value, "value"), (source.high_value, "highValue"))
    elif operator in (Operator.IN, Operator.NOT_IN):
        raw = tuple((v, f"values[{i}]") for i, v in enumerate(source.values))
    else:
        raw = ((source.value, "value"),)
    before = len(errors)
    operands = tuple(_filter_operand(kind, text, source, where, errors) for text, where in raw)
    if len(errors) > before:
        return None
    return TypedFilter(source, kind, operands)


def _filter_operand(
    kind: PropertyType, text: str | None, source: Filter, where: str, errors: list[FieldError]
) -> Any:
    assert text is not None  # the parser requires the operands each operator needs
    if kind is PropertyType.NUMBER:
        number = parse_number(text.strip())
        if number is None:
            errors.append(_bad_value(source, where, text, "a number"))
        return number
    if kind in (PropertyType.DATE, PropertyType.DATETIME):
        millis = parse_epoch_millis(text.strip())
        if millis is None or not _is_calendar_date(text.strip()):
            errors.append(_bad_value(source, where, text, "epoch milliseconds or an ISO 8601 date"))
        return millis
    if kind is PropertyType.BOOL:
        flag = parse_bool(text.strip())
        if flag is None:
            errors.append(_bad_value(source, where, text, "true or false"))
        return flag
    if kind is PropertyType.ENUMERATION:
        return text
    return text.lower()


def _is_calendar_date(text: str) -> bool:
    match = _TIMESTAMP.fullmatch(text)
    if match is None or match[1] is not None:
        return match is not None
    try:
        date(int(match[2]), int(match[3]), int(match[4]))
    except ValueError:
        return False
    return True


def _bad_value(source: Filter, where: str, text: str, expected: str) -> FieldError:
    return FieldError(
        f"{text!r} is not a valid value for property {source.property_name!r} "
        f"(operator {source.operator.value}): expected {expected}.",
        f"{source.path}.{where}",
    )
