"""Segments (R-HLTH-1): which customers a live profile scores.

A segment is a saved filter set in the search API's shape (`filter_groups`: OR of
groups, AND of the filters within a group, each `{propertyName, operator, value,
values, highValue}`), evaluated here on the customer's own properties. A segment with
no filter groups holds every customer. Lists, once they exist, become another kind.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .conditions import Condition, compile_condition, condition_errors

# Search operators -> condition operators (the search API's names, our comparison rules).
SEARCH_OPERATORS = {
    "EQ": "eq", "NEQ": "neq", "LT": "lt", "LTE": "lte", "GT": "gt", "GTE": "gte",
    "BETWEEN": "between", "IN": "in", "NOT_IN": "not_in",
    "HAS_PROPERTY": "is_known", "NOT_HAS_PROPERTY": "is_unknown",
}


@dataclass(frozen=True)
class Segment:
    id: str
    name: str
    # Each group is a tuple of conditions, all of which must hold.
    filter_groups: tuple[tuple[Condition, ...], ...] = ()


class SegmentInvalid(ValueError):
    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = errors
        super().__init__("; ".join(f"{path}: {message}" for path, message in errors))


def segment_from_json(data: Mapping[str, Any], path: str) -> Segment:
    """Read one segment; SegmentInvalid names every malformed filter."""
    errors: list[tuple[str, str]] = []
    groups = []
    for g, group in enumerate(data.get("filter_groups") or ()):
        conditions = []
        for f, item in enumerate((group or {}).get("filters") or ()):
            where = f"{path}.filter_groups[{g}].filters[{f}]"
            operator = SEARCH_OPERATORS.get(str(item.get("operator", "")).upper())
            if operator is None:
                errors.append((f"{where}.operator", f"unknown operator '{item.get('operator')}'; "
                                                    f"use one of {', '.join(SEARCH_OPERATORS)}"))
                continue
            value, values = item.get("value"), tuple(str(v) for v in item.get("values") or ())
            if operator == "between":
                value, values = None, (str(item.get("value")), str(item.get("highValue")))
            conditions.append(Condition(str(item.get("propertyName", "")), operator,
                                        None if value is None else str(value), values))
        groups.append(tuple(conditions))
    if errors:
        raise SegmentInvalid(errors)
    return Segment(id=str(data.get("id") or ""), name=str(data.get("name") or ""),
                   filter_groups=tuple(groups))


def segment_to_json(segment: Segment) -> dict[str, Any]:
    def one(condition: Condition) -> dict[str, Any]:
        operator = next(k for k, v in SEARCH_OPERATORS.items() if v == condition.operator)
        item: dict[str, Any] = {"propertyName": condition.property, "operator": operator}
        if operator == "BETWEEN":
            item["value"], item["highValue"] = condition.values
        elif condition.values:
            item["values"] = list(condition.values)
        elif condition.value is not None:
            item["value"] = condition.value
        return item

    return {"id": segment.id, "name": segment.name,
            "filter_groups": [{"filters": [one(c) for c in group]}
                              for group in segment.filter_groups]}


def segment_errors(segment: Segment, path: str,
                   property_types: Mapping[str, str]) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    if not segment.id.strip():
        errors.append((f"{path}.id", "a segment needs an id"))
    for g, group in enumerate(segment.filter_groups):
        if not group:
            errors.append((f"{path}.filter_groups[{g}]", "a filter group needs a filter"))
        for f, condition in enumerate(group):
            where = f"{path}.filter_groups[{g}].filters[{f}]"
            if condition.property not in property_types:
                errors.append((f"{where}.propertyName",
                               f"unknown property '{condition.property}'"))
                continue
            errors += [(f"{where}.{field}", message) for field, message in
                       condition_errors(condition, property_types[condition.property])]
    return errors


def segments_of(properties: Mapping[str, str | None], segments: Iterable[Segment],
                property_types: Mapping[str, str]) -> frozenset[str]:
    """The ids of the segments this customer is in. Segments must be valid."""
    inside = set()
    for segment in segments:
        if not segment.filter_groups or any(
                all(compile_condition(c, property_types.get(c.property, "string"))(
                    properties.get(c.property)) for c in group)
                for group in segment.filter_groups):
            inside.add(segment.id)
    return frozenset(inside)


def properties_read(segments: Iterable[Segment]) -> set[str]:
    return {c.property for s in segments for group in s.filter_groups for c in group}
