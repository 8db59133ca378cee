"""List rules (R-MKT-3): static and active lists of contacts, and who an email
to a list reaches.

An active (DYNAMIC) list is defined by filter groups in the search API's shape
(OR of groups, AND within a group). Its membership is decided here, record by
record, from the record's property snapshot in a record event.

Why an evaluator of our own: the search service has one (crm_search.domain),
but services share only libs/contracts, so it cannot be imported. This one
covers the operators lists need, with the same comparison rules: numbers
compare as numbers, dates and datetimes as instants (a filter value may be
epoch milliseconds, as the search API takes it), everything else as
case-insensitive text; enumeration multi-select values ("a;b") match EQ/IN on
any option; NEQ, NOT_IN and NOT_HAS_PROPERTY are the negations of EQ, IN and
HAS_PROPERTY, so a record without the property matches them. The value-level
part of both would be a good shared rule in libs/contracts (README).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import cached_property
from typing import Any

from crm_records.domain.errors import DomainError
from crm_records.domain.properties import is_blank, parse_datetime

MANUAL = "MANUAL"  # static: members added and removed by hand
DYNAMIC = "DYNAMIC"  # active: members are the contacts matching the filters
PROCESSING_TYPES = (MANUAL, DYNAMIC)
CONTACTS_OBJECT_TYPE_ID = "0-1"

MAX_FILTER_GROUPS = 5  # the search API's limits
MAX_FILTERS_PER_GROUP = 6
MAX_FILTERS = 18


class Operator(StrEnum):
    EQ = "EQ"
    NEQ = "NEQ"
    LT = "LT"
    LTE = "LTE"
    GT = "GT"
    GTE = "GTE"
    BETWEEN = "BETWEEN"
    IN = "IN"
    NOT_IN = "NOT_IN"
    HAS_PROPERTY = "HAS_PROPERTY"
    NOT_HAS_PROPERTY = "NOT_HAS_PROPERTY"
    CONTAINS_TOKEN = "CONTAINS_TOKEN"
    NOT_CONTAINS_TOKEN = "NOT_CONTAINS_TOKEN"


NEGATIONS = {Operator.NEQ: Operator.EQ, Operator.NOT_IN: Operator.IN,
             Operator.NOT_HAS_PROPERTY: Operator.HAS_PROPERTY,
             Operator.NOT_CONTAINS_TOKEN: Operator.CONTAINS_TOKEN}


class InvalidListDefinition(DomainError):
    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("List definition is not valid: " + "; ".join(self.problems))


@dataclass(frozen=True)
class Filter:
    property_name: str
    operator: Operator
    values: tuple[str, ...] = ()  # value; or values (IN); or value, highValue (BETWEEN)

    @cached_property
    def operands(self) -> tuple[Operand, ...]:
        return tuple(Operand.of(v) for v in self.values)

    def as_search_json(self) -> dict[str, Any]:
        shape: dict[str, Any] = {"propertyName": self.property_name,
                                 "operator": self.operator.value}
        if self.operator in (Operator.IN, Operator.NOT_IN):
            shape["values"] = list(self.values)
        elif self.operator is Operator.BETWEEN:
            shape["value"], shape["highValue"] = self.values
        elif self.values:
            shape["value"] = self.values[0]
        return shape


FilterGroups = tuple[tuple[Filter, ...], ...]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_filter_groups(raw: Any) -> FilterGroups:
    """Search-API filter groups, checked; InvalidListDefinition names every problem."""
    problems: list[str] = []
    if not isinstance(raw, list) or not raw:
        raise InvalidListDefinition(["an active list needs filterGroups (a non-empty list)"])
    if len(raw) > MAX_FILTER_GROUPS:
        problems.append(f"at most {MAX_FILTER_GROUPS} filterGroups")
    groups = []
    total = 0
    for g, group in enumerate(raw):
        filters = group.get("filters") if isinstance(group, dict) else None
        if not isinstance(filters, list) or not filters:
            problems.append(f"filterGroups[{g}].filters must be a non-empty list")
            continue
        if len(filters) > MAX_FILTERS_PER_GROUP:
            problems.append(f"filterGroups[{g}]: at most {MAX_FILTERS_PER_GROUP} filters")
        total += len(filters)
        parsed = []
        for f, item in enumerate(filters):
            where = f"filterGroups[{g}].filters[{f}]"
            try:
                parsed.append(_parse_filter(item, where))
            except InvalidListDefinition as bad:
                problems.extend(bad.problems)
        groups.append(tuple(parsed))
    if total > MAX_FILTERS:
        problems.append(f"at most {MAX_FILTERS} filters in all")
    if problems:
        raise InvalidListDefinition(problems)
    return tuple(groups)


def _parse_filter(item: Any, where: str) -> Filter:
    if not isinstance(item, dict):
        raise InvalidListDefinition([f"{where} must be an object"])
    name, op = item.get("propertyName"), item.get("operator")
    if not isinstance(name, str) or not name:
        raise InvalidListDefinition([f"{where}.propertyName is required"])
    try:
        operator = Operator(str(op))
    except ValueError:
        raise InvalidListDefinition([f"{where}.operator {op!r} is not one of "
                                     f"{', '.join(o.value for o in Operator)}"]) from None
    if operator in (Operator.HAS_PROPERTY, Operator.NOT_HAS_PROPERTY):
        return Filter(name, operator)
    if operator in (Operator.IN, Operator.NOT_IN):
        values = item.get("values")
        if not isinstance(values, list) or not values:
            raise InvalidListDefinition([f"{where}.values must be a non-empty list"])
        return Filter(name, operator, tuple(_text(v) for v in values))
    if item.get("value") is None:
        raise InvalidListDefinition([f"{where}.value is required for {operator.value}"])
    if operator is Operator.BETWEEN:
        if item.get("highValue") is None:
            raise InvalidListDefinition([f"{where}.highValue is required for BETWEEN"])
        return Filter(name, operator, (_text(item["value"]), _text(item["highValue"])))
    return Filter(name, operator, (_text(item["value"]),))


def filter_groups_json(groups: FilterGroups) -> list[dict[str, Any]]:
    return [{"filters": [f.as_search_json() for f in group]} for group in groups]


# ---------------------------------------------------------------- evaluation

_DATE_LIKE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}.*)?$")


def _number(text: str) -> Decimal | None:
    try:
        number = Decimal(text.strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _instant(text: str) -> datetime | None:
    try:
        moment = parse_datetime(text)
    except (ValueError, OverflowError, OSError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Operand:
    """A filter value in every kind it may compare as, worked out once per filter
    rather than once per record evaluated (the membership consumer's hot loop)."""

    instant: datetime | None
    number: Decimal | None
    text: str

    @classmethod
    def of(cls, value: str) -> Operand:
        return cls(_instant(value), _number(value), value.strip().lower())


def _comparable(stored: str, operand: Operand) -> tuple[Any, Any]:
    """The stored value and the operand in one comparable kind, as the search
    service types them: dates when the stored value is one, then numbers, then text."""
    stored = stored.strip()
    if operand.instant is not None and _DATE_LIKE.match(stored):
        left = _instant(stored)
        if left is not None:
            return left, operand.instant
    if operand.number is not None:
        left_n = _number(stored)
        if left_n is not None:
            return left_n, operand.number
    return stored.lower(), operand.text


def _tokens(text: str) -> list[str]:
    return [t for t in re.split(r"[^\w@.*-]+", text.lower()) if t]


def _token_matches(pattern: str, token: str) -> bool:
    regex = "^" + ".*".join(re.escape(part) for part in pattern.lower().split("*")) + "$"
    return re.match(regex, token) is not None


def _positive(f: Filter, operator: Operator, raw: str | None) -> bool:
    if operator is Operator.HAS_PROPERTY:
        return not is_blank(raw)
    if is_blank(raw):
        return False
    assert raw is not None
    if operator is Operator.CONTAINS_TOKEN:
        stored = _tokens(raw)
        return all(any(_token_matches(p, t) for t in stored) for p in _tokens(f.values[0]))
    if operator in (Operator.EQ, Operator.IN):
        candidates = [raw, *raw.split(";")] if ";" in raw else [raw]
        return any(_equal(c, v) for c in candidates for v in f.operands)
    if operator is Operator.BETWEEN:
        stored_value, low = _comparable(raw, f.operands[0])
        high = _comparable(raw, f.operands[1])[1]
        return _ordered(stored_value, low, high) and low <= stored_value <= high
    value, operand = _comparable(raw, f.operands[0])
    if not _ordered(value, operand):
        return False
    return {Operator.LT: value < operand, Operator.LTE: value <= operand,
            Operator.GT: value > operand, Operator.GTE: value >= operand}[operator]


def _ordered(*values: Any) -> bool:
    return len({type(v) for v in values}) == 1


def _equal(stored: str, operand: Operand) -> bool:
    left, right = _comparable(stored, operand)
    return bool(left == right)


def filter_matches(f: Filter, properties: Mapping[str, str | None]) -> bool:
    raw = properties.get(f.property_name)
    if f.operator in NEGATIONS:
        return not _positive(f, NEGATIONS[f.operator], raw)
    return _positive(f, f.operator, raw)


def record_matches(groups: FilterGroups, properties: Mapping[str, str | None]) -> bool:
    """OR of groups, AND within a group (R-SRCH-1's shape, R-MKT-3)."""
    return any(all(filter_matches(f, properties) for f in group) for group in groups)


# ---------------------------------------------------------------- membership

@dataclass(frozen=True)
class MembershipChange:
    list_id: int
    record_id: int
    joined: bool  # False: left


def active_membership_changes(lists: Mapping[int, FilterGroups], current_members: set[int],
                              record_id: int, properties: Mapping[str, str | None],
                              archived: bool) -> list[MembershipChange]:
    """Which active lists this record joins or leaves, given the lists it is in now.
    An archived record belongs to no active list."""
    changes = []
    for list_id, groups in sorted(lists.items()):
        should = not archived and record_matches(groups, properties)
        if should and list_id not in current_members:
            changes.append(MembershipChange(list_id, record_id, True))
        elif not should and list_id in current_members:
            changes.append(MembershipChange(list_id, record_id, False))
    return changes


# ---------------------------------------------------------------- email to a list

NO_EMAIL_ADDRESS = "NO_EMAIL_ADDRESS"
UNSUBSCRIBED = "UNSUBSCRIBED"
HARD_BOUNCED = "HARD_BOUNCED"
ARCHIVED = "ARCHIVED"
SUPPRESSION_REASONS = (UNSUBSCRIBED, HARD_BOUNCED)
# Contact properties that, when set, also make an address unreachable (the hosted names).
OPTED_OUT_PROPERTY = "hs_email_optout"
HARD_BOUNCE_PROPERTY = "hs_email_hard_bounce_reason_enum"


def skip_reason(properties: Mapping[str, str | None] | None,
                suppressions: Mapping[str, str]) -> str | None:
    """Why a list email does not go to this contact, or None when it is reachable.
    `properties` None: the contact is archived or gone; `suppressions`: address ->
    UNSUBSCRIBED or HARD_BOUNCED."""
    if properties is None:
        return ARCHIVED
    address = properties.get("email")
    if is_blank(address):
        return NO_EMAIL_ADDRESS
    assert address is not None
    if address in suppressions:
        return suppressions[address]
    if (properties.get(OPTED_OUT_PROPERTY) or "").lower() == "true":
        return UNSUBSCRIBED
    if not is_blank(properties.get(HARD_BOUNCE_PROPERTY)):
        return HARD_BOUNCED
    return None


def recipient_key(send_id: str, contact_id: int) -> str:
    """The idempotency key of one message of one list send: a retried send, or a
    redelivered event, mails nobody twice."""
    return f"list-email:{send_id}:{contact_id}"
