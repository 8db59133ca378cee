"""The hosted-CRM search request, parsed and checked (R-SRCH-1).

`parse_search_request(body)` turns the JSON body of
`POST /crm/v3/objects/{type}/search` into a frozen `SearchQuery`, or raises
`SearchRequestInvalid` naming every field that is wrong. Only the shape is
checked here; values are checked against the property types in
`crm_search.domain.typing`.

The caps are the hosted API's: 5 filter groups, 6 filters per group, 18 filters
in all, 200 results a page, and no paging past the 10,000th result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

MAX_FILTER_GROUPS = 5
MAX_FILTERS_PER_GROUP = 6
MAX_FILTERS_TOTAL = 18
DEFAULT_LIMIT = 10
MAX_LIMIT = 200
MAX_RESULTS = 10_000

HOSTED_VALIDATION_MESSAGE = "There was a problem with the request."

# `associations.company` EQ 123: records associated with company 123. The hosted
# API names the other side in the singular; the index stores plural type names.
ASSOCIATION_PREFIX = "associations."
_SINGULAR_TO_PLURAL = {
    "contact": "contacts",
    "company": "companies",
    "deal": "deals",
    "ticket": "tickets",
    "service": "services",
    "task": "tasks",
    "call": "calls",
    "note": "notes",
    "email": "emails",
    "meeting": "meetings",
}


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


SINGLE_VALUE_OPERATORS = frozenset(
    {
        Operator.EQ,
        Operator.NEQ,
        Operator.LT,
        Operator.LTE,
        Operator.GT,
        Operator.GTE,
        Operator.CONTAINS_TOKEN,
        Operator.NOT_CONTAINS_TOKEN,
    }
)
RANGE_OPERATORS = frozenset(
    {Operator.LT, Operator.LTE, Operator.GT, Operator.GTE, Operator.BETWEEN}
)
# A negated operator matches every record its positive form does not match,
# including records without the property (as the hosted index does).
NEGATED = {
    Operator.NEQ: Operator.EQ,
    Operator.NOT_IN: Operator.IN,
    Operator.NOT_HAS_PROPERTY: Operator.HAS_PROPERTY,
    Operator.NOT_CONTAINS_TOKEN: Operator.CONTAINS_TOKEN,
}
ASSOCIATION_OPERATORS = frozenset(
    {
        Operator.EQ,
        Operator.NEQ,
        Operator.IN,
        Operator.NOT_IN,
        Operator.HAS_PROPERTY,
        Operator.NOT_HAS_PROPERTY,
    }
)


class SortDirection(StrEnum):
    ASCENDING = "ASCENDING"
    DESCENDING = "DESCENDING"


@dataclass(frozen=True)
class FieldError:
    """One thing wrong with the request, in the hosted `errors[]` item shape."""

    message: str
    in_: str  # where in the body, e.g. "filterGroups[0].filters[2].value"
    code: str = "INVALID_VALUE"

    def as_hosted(self) -> dict[str, str]:
        return {"message": self.message, "in": self.in_, "code": self.code}


class SearchRequestInvalid(ValueError):
    """The request cannot be run; the API answers 400 VALIDATION_ERROR."""

    category = "VALIDATION_ERROR"

    def __init__(self, errors: list[FieldError] | tuple[FieldError, ...]):
        self.errors = tuple(errors)
        self.message = HOSTED_VALIDATION_MESSAGE
        super().__init__(
            f"{HOSTED_VALIDATION_MESSAGE} " + "; ".join(e.message for e in self.errors)
        )

    def hosted_errors(self) -> list[dict[str, str]]:
        return [error.as_hosted() for error in self.errors]


@dataclass(frozen=True)
class Filter:
    property_name: str
    operator: Operator
    value: str | None = None
    high_value: str | None = None
    values: tuple[str, ...] = ()
    # Where the filter sits in the request, for error messages and explanations.
    group_index: int = 0
    filter_index: int = 0

    @property
    def path(self) -> str:
        return f"filterGroups[{self.group_index}].filters[{self.filter_index}]"

    @property
    def association_type(self) -> str | None:
        """The plural object type of an `associations.<type>` filter, else None."""
        if not self.property_name.startswith(ASSOCIATION_PREFIX):
            return None
        named = self.property_name[len(ASSOCIATION_PREFIX) :]
        return _SINGULAR_TO_PLURAL.get(named, named)

    def describe(self) -> str:
        if self.operator is Operator.BETWEEN:
            operand = f" {self.value!r} and {self.high_value!r}"
        elif self.operator in (Operator.IN, Operator.NOT_IN):
            operand = f" {list(self.values)!r}"
        elif self.value is not None:
            operand = f" {self.value!r}"
        else:
            operand = ""
        return f"{self.property_name} {self.operator.value}{operand}"


@dataclass(frozen=True)
class FilterGroup:
    filters: tuple[Filter, ...]


@dataclass(frozen=True)
class Sort:
    property_name: str
    direction: SortDirection = SortDirection.ASCENDING


@dataclass(frozen=True)
class SearchQuery:
    filter_groups: tuple[FilterGroup, ...] = ()
    sorts: tuple[Sort, ...] = ()
    query: str | None = None
    properties: tuple[str, ...] = ()
    limit: int = DEFAULT_LIMIT
    after: int = 0
    filters: tuple[Filter, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        flat = tuple(f for group in self.filter_groups for f in group.filters)
        object.__setattr__(self, "filters", flat)

    def next_after(self, total: int) -> str | None:
        """The `paging.next.after` cursor, or None when this is the last page."""
        following = self.after + self.limit
        if self.limit == 0 or following >= min(total, MAX_RESULTS):
            return None
        return str(following)


def parse_search_request(body: Any) -> SearchQuery:
    """Parse a hosted search body; raise SearchRequestInvalid listing every problem."""
    errors: list[FieldError] = []
    if body is None:
        body = {}
    if not isinstance(body, Mapping):
        raise SearchRequestInvalid([FieldError("The body must be a JSON object.", "body")])

    groups = _parse_filter_groups(body.get("filterGroups"), errors)
    sorts = _parse_sorts(body.get("sorts"), errors)
    query = _parse_query(body.get("query"), errors)
    properties = _parse_properties(body.get("properties"), errors)
    limit = _parse_limit(body.get("limit"), errors)
    after = _parse_after(body.get("after"), errors)
    if limit is not None and after is not None and after + limit > MAX_RESULTS:
        errors.append(
            FieldError(
                f"Paging is limited to {MAX_RESULTS} results: after ({after}) plus "
                f"limit ({limit}) is {after + limit}.",
                "after",
                "TOO_MANY_RESULTS",
            )
        )
    if errors:
        raise SearchRequestInvalid(errors)
    assert limit is not None and after is not None
    return SearchQuery(
        filter_groups=groups,
        sorts=sorts,
        query=query,
        properties=properties,
        limit=limit,
        after=after,
    )


def _parse_filter_groups(raw: Any, errors: list[FieldError]) -> tuple[FilterGroup, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        errors.append(FieldError("filterGroups must be a list.", "filterGroups"))
        return ()
    if len(raw) > MAX_FILTER_GROUPS:
        errors.append(
            FieldError(
                f"Too many filterGroups: {len(raw)}; at most {MAX_FILTER_GROUPS} are allowed.",
                "filterGroups",
                "TOO_MANY_FILTER_GROUPS",
            )
        )
    groups: list[FilterGroup] = []
    total = 0
    for group_index, raw_group in enumerate(raw):
        where = f"filterGroups[{group_index}]"
        raw_filters = raw_group.get("filters") if isinstance(raw_group, Mapping) else None
        if not isinstance(raw_filters, list):
            errors.append(FieldError(f"{where}.filters must be a list.", f"{where}.filters"))
            continue
        if len(raw_filters) > MAX_FILTERS_PER_GROUP:
            errors.append(
                FieldError(
                    f"Too many filters in {where}: {len(raw_filters)}; at most "
                    f"{MAX_FILTERS_PER_GROUP} are allowed in one group.",
                    f"{where}.filters",
                    "TOO_MANY_FILTERS",
                )
            )
        total += len(raw_filters)
        filters = [
            _parse_filter(raw_filter, group_index, filter_index, errors)
            for filter_index, raw_filter in enumerate(raw_filters)
        ]
        groups.append(FilterGroup(tuple(f for f in filters if f is not None)))
    if total > MAX_FILTERS_TOTAL:
        errors.append(
            FieldError(
                f"Too many filters: {total}; at most {MAX_FILTERS_TOTAL} are allowed "
                "across all filterGroups.",
                "filterGroups",
                "TOO_MANY_FILTERS",
            )
        )
    return tuple(groups)


def _parse_filter(
    raw: Any, group_index: int, filter_index: int, errors: list[FieldError]
) -> Filter | None:
    where = f"filterGroups[{group_index}].filters[{filter_index}]"
    if not isinstance(raw, Mapping):
        errors.append(FieldError(f"{where} must be an object.", where))
        return None
    name = raw.get("propertyName")
    if not isinstance(name, str) or not name.strip():
        errors.append(
            FieldError(f"{where}.propertyName is required.", f"{where}.propertyName", "REQUIRED")
        )
        return None
    raw_operator = raw.get("operator")
    try:
        operator = Operator(str(raw_operator))
    except ValueError:
        errors.append(
            FieldError(
                f"Unknown operator {raw_operator!r} on property {name!r}; expected one of "
                f"{', '.join(o.value for o in Operator)}.",
                f"{where}.operator",
            )
        )
        return None

    before = len(errors)
    value = _scalar(raw.get("value"), f"{where}.value", name, errors)
    high_value = _scalar(raw.get("highValue"), f"{where}.highValue", name, errors)
    values = _scalar_list(raw.get("values"), f"{where}.values", name, errors)
    if operator in SINGLE_VALUE_OPERATORS and value is None:
        errors.append(_missing(f"{where}.value", name, operator, "a value"))
    if operator is Operator.BETWEEN and (value is None or high_value is None):
        errors.append(_missing(f"{where}.highValue", name, operator, "a value and a highValue"))
    if operator in (Operator.IN, Operator.NOT_IN) and not values:
        errors.append(_missing(f"{where}.values", name, operator, "a non-empty values list"))
    parsed = Filter(name, operator, value, high_value, values, group_index, filter_index)
    if parsed.association_type is not None:
        _check_association_filter(parsed, errors)
    return parsed if len(errors) == before else None


def _check_association_filter(parsed: Filter, errors: list[FieldError]) -> None:
    if not parsed.association_type:
        errors.append(
            FieldError(
                f"{parsed.path}: no object type after 'associations.'.",
                f"{parsed.path}.propertyName",
            )
        )
        return
    if parsed.operator not in ASSOCIATION_OPERATORS:
        errors.append(
            FieldError(
                f"Operator {parsed.operator.value} is not supported on {parsed.property_name}; "
                "use EQ, NEQ, IN, NOT_IN, HAS_PROPERTY or NOT_HAS_PROPERTY.",
                f"{parsed.path}.operator",
            )
        )
        return
    ids = (parsed.value,) if parsed.operator in SINGLE_VALUE_OPERATORS else parsed.values
    for record_id in ids:
        if record_id is not None and not (record_id.isascii() and record_id.isdigit()):
            errors.append(
                FieldError(
                    f"{parsed.property_name} needs record ids; {record_id!r} is not one.",
                    f"{parsed.path}.value",
                )
            )


def _missing(where: str, name: str, operator: Operator, needed: str) -> FieldError:
    return FieldError(
        f"Operator {operator.value} on property {name!r} needs {needed}.", where, "REQUIRED"
    )


def _scalar(raw: Any, where: str, name: str, errors: list[FieldError]) -> str | None:
    """Filter values arrive as strings, numbers or booleans; keep them as hosted strings."""
    if raw is None or isinstance(raw, str):
        return raw
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, int | float):
        return str(raw)
    errors.append(FieldError(f"{where} on property {name!r} must be a string or a number.", where))
    return None


def _scalar_list(raw: Any, where: str, name: str, errors: list[FieldError]) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        errors.append(FieldError(f"{where} on property {name!r} must be a list.", where))
        return ()
    items = [_scalar(item, f"{where}[{i}]", name, errors) for i, item in enumerate(raw)]
    return tuple(item for item in items if item is not None)


def _parse_sorts(raw: Any, errors: list[FieldError]) -> tuple[Sort, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        errors.append(FieldError("sorts must be a list.", "sorts"))
        return ()
    sorts: list[Sort] = []
    for index, item in enumerate(raw):
        where = f"sorts[{index}]"
        if isinstance(item, str) and item.lstrip("-"):
            # The string form: "createdate" ascending, "-createdate" descending.
            descending = item.startswith("-")
            direction = SortDirection.DESCENDING if descending else SortDirection.ASCENDING
            sorts.append(Sort(item[1:] if descending else item, direction))
            continue
        if not isinstance(item, Mapping) or not isinstance(item.get("propertyName"), str):
            errors.append(FieldError(f"{where} needs a propertyName.", where, "REQUIRED"))
            continue
        try:
            direction = SortDirection(item.get("direction") or "ASCENDING")
        except ValueError:
            errors.append(
                FieldError(
                    f"{where}.direction {item.get('direction')!r} must be ASCENDING or DESCENDING.",
                    f"{where}.direction",
                )
            )
            continue
        sorts.append(Sort(item["propertyName"], direction))
    return tuple(sorts)


def _parse_query(raw: Any, errors: list[FieldError]) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        errors.append(FieldError("query must be a string.", "query"))
        return None
    return raw.strip() or None


def _parse_properties(raw: Any, errors: list[FieldError]) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(p, str) for p in raw):
        errors.append(FieldError("properties must be a list of property names.", "properties"))
        return ()
    return tuple(raw)


def _parse_limit(raw: Any, errors: list[FieldError]) -> int | None:
    if raw is None:
        return DEFAULT_LIMIT
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
        errors.append(FieldError(f"limit must be an integer from 0 to {MAX_LIMIT}.", "limit"))
        return None
    if raw > MAX_LIMIT:
        errors.append(
            FieldError(
                f"limit {raw} is too large; at most {MAX_LIMIT} results a page.",
                "limit",
                "TOO_LARGE",
            )
        )
        return None
    return raw


def _parse_after(raw: Any, errors: list[FieldError]) -> int | None:
    if raw is None or raw == "":
        return 0
    if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0:
        return raw
    if isinstance(raw, str) and raw.isascii() and raw.isdigit():
        return int(raw)
    errors.append(FieldError(f"after {raw!r} must be a non-negative integer offset.", "after"))
    return None
