"""Why is this record not shown? (R-SRCH-4)

`explain_exclusion` runs a search's filter groups in Python on one indexed
record, with the comparison rules of `crm_search.domain.typing` that the SQL
compiler also follows, and answers with the reasons the record is left out:
archived, hidden by a permission, or, for each filter group, the filters of
that group it fails. An empty list means the record's filters let it through.

"Not yet indexed" is known only to whoever looked the record up in the index;
`Reason.not_indexed()` gives that answer the same shape.

The free-text `query` is not evaluated here: it runs against the text the
indexer built, which this function does not see.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from crm_search.domain.query import Operator, SearchQuery
from crm_search.domain.typing import (
    MULTI_SELECT_SEPARATOR,
    PropertyType,
    TypedFilter,
    present,
    stored_comparable,
    token_matches,
    tokens,
    type_query,
)


class ReasonKind(StrEnum):
    NOT_INDEXED = "NOT_INDEXED"
    ARCHIVED = "ARCHIVED"
    PERMISSION = "PERMISSION"
    FILTER = "FILTER"


@dataclass(frozen=True)
class Visibility:
    """Whether the asking user may see the record, and if not, why (from identity)."""

    allowed: bool
    reason: str | None = None


@dataclass(frozen=True)
class Reason:
    kind: ReasonKind
    message: str
    group_index: int | None = None
    filter_index: int | None = None
    property_name: str | None = None
    operator: str | None = None

    @classmethod
    def not_indexed(cls, object_type: str, record_id: int) -> Reason:
        return cls(
            ReasonKind.NOT_INDEXED,
            f"{object_type} {record_id} is not in the search index yet.",
        )


def explain_exclusion(
    document_properties: Mapping[str, Any],
    archived: bool,
    query: SearchQuery,
    property_types: Mapping[str, str],
    visibility: Visibility | None = None,
    associations: Collection[tuple[str, int]] = (),
) -> list[Reason]:
    """Every reason the record is left out of `query`'s results; [] if none.

    associations: the record's associated (object_type, record_id) pairs, needed
    only by `associations.<type>` filters. Raises SearchRequestInvalid as the
    search itself would.
    """
    typed = type_query(query, property_types)
    reasons: list[Reason] = []
    if archived:
        reasons.append(Reason(ReasonKind.ARCHIVED, "The record is archived."))
    if visibility is not None and not visibility.allowed:
        reasons.append(Reason(ReasonKind.PERMISSION, visibility.reason or "Hidden by permission."))
    failing_per_group = [
        [f for f in group if not filter_matches(f, document_properties, associations)]
        for group in typed.groups
    ]
    # Groups are ORed: the filters exclude the record only if every group fails.
    if failing_per_group and all(failing_per_group):
        for failing in failing_per_group:
            reasons.extend(_filter_reason(f, document_properties) for f in failing)
    return reasons


def record_matches(
    document_properties: Mapping[str, Any],
    archived: bool,
    query: SearchQuery,
    property_types: Mapping[str, str],
    associations: Collection[tuple[str, int]] = (),
) -> bool:
    """True if the filter groups keep this (unarchived) record, as the SQL would."""
    return not explain_exclusion(
        document_properties, archived, query, property_types, None, associations
    )


def filter_matches(
    typed: TypedFilter,
    properties: Mapping[str, Any],
    associations: Collection[tuple[str, int]] = (),
) -> bool:
    positive = _positive_matches(typed, properties, associations)
    return not positive if typed.negated else positive


def _positive_matches(
    typed: TypedFilter,
    properties: Mapping[str, Any],
    associations: Collection[tuple[str, int]],
) -> bool:
    operator = typed.positive_operator
    if typed.kind is None:  # associations.<type>
        target = typed.filter.association_type
        linked = {record_id for object_type, record_id in associations if object_type == target}
        if operator is Operator.HAS_PROPERTY:
            return bool(linked)
        return bool(linked.intersection(typed.operands))

    raw = properties.get(typed.filter.property_name)
    if operator is Operator.HAS_PROPERTY:
        return present(raw) is not None
    if operator is Operator.CONTAINS_TOKEN:
        text = present(raw)
        if text is None:
            return False
        stored_tokens = tokens(text)
        return all(
            any(token_matches(pattern, token) for token in stored_tokens)
            for pattern in typed.operands
        )

    value = stored_comparable(typed.kind, raw)
    if value is None:
        return False
    if typed.kind is PropertyType.ENUMERATION and operator in (Operator.EQ, Operator.IN):
        options = {value, *value.split(MULTI_SELECT_SEPARATOR)}
        return bool(options.intersection(typed.operands))
    operands = typed.operands
    if operator is Operator.EQ:
        return bool(value == operands[0])
    if operator is Operator.IN:
        return value in operands
    if operator is Operator.LT:
        return bool(value < operands[0])
    if operator is Operator.LTE:
        return bool(value <= operands[0])
    if operator is Operator.GT:
        return bool(value > operands[0])
    if operator is Operator.GTE:
        return bool(value >= operands[0])
    if operator is Operator.BETWEEN:
        return bool(operands[0] <= value <= operands[1])
    raise AssertionError(f"unhandled operator {operator}")


def _filter_reason(typed: TypedFilter, properties: Mapping[str, Any]) -> Reason:
    source = typed.filter
    if typed.kind is None:
        found = "its associations"
    else:
        stored = present(properties.get(source.property_name))
        found = "no value" if stored is None else f"value {stored!r}"
    return Reason(
        ReasonKind.FILTER,
        f"Excluded by filter {source.filter_index} of group {source.group_index} "
        f"({source.describe()}): the record has {found}.",
        group_index=source.group_index,
        filter_index=source.filter_index,
        property_name=source.property_name,
        operator=source.operator.value,
    )
