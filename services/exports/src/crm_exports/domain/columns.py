"""Which columns an export has, in which order, under which headers (R-EXP-2, R-EXP-3).

Three choices, as the hosted CRM offers them:
- VIEW (default): the view's properties in the view's column order, then the
  requested association columns;
- ALL_PROPERTIES: Record ID first, then every other property alphabetically
  by its header, no associations;
- ALL_PROPERTIES_AND_ASSOCIATIONS: the same, then for each associated object
  type a names column and an ids column, associations last.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from crm_exports.domain.translations import association_header, header_for

RECORD_ID_PROPERTY = "hs_object_id"

ColumnKind = Literal["record_id", "property", "association"]
AssociationPart = Literal["names", "ids"]


class ExportColumnsMode(StrEnum):
    VIEW = "VIEW"
    ALL_PROPERTIES = "ALL_PROPERTIES"
    ALL_PROPERTIES_AND_ASSOCIATIONS = "ALL_PROPERTIES_AND_ASSOCIATIONS"


@dataclass(frozen=True)
class PropertyDefinition:
    """What the exporter needs to know of a property: its own label and its type."""

    name: str
    label: str
    value_type: str = "string"  # the property's type: string, number, date, datetime, ...


@dataclass(frozen=True)
class Column:
    key: str  # property name, or the association type for association columns
    header: str
    kind: ColumnKind
    value_type: str
    association_part: AssociationPart | None = None


def _property_column(
    name: str, properties: Mapping[str, PropertyDefinition], language: str
) -> Column:
    definition = properties.get(name, PropertyDefinition(name=name, label=name))
    return Column(
        key=name,
        header=header_for(name, language, own_label=definition.label),
        kind="property",
        value_type=definition.value_type,
    )


def _record_id_column(language: str) -> Column:
    return Column(
        key=RECORD_ID_PROPERTY,
        header=header_for(RECORD_ID_PROPERTY, language),
        kind="record_id",
        value_type="number",
    )


def _association_columns(association_type: str, language: str) -> list[Column]:
    return [
        Column(
            key=association_type,
            header=association_header(association_type, language, ids=part == "ids"),
            kind="association",
            value_type="string",
            association_part=part,
        )
        for part in ("names", "ids")
    ]


def plan_columns(
    mode: ExportColumnsMode,
    view_properties: Sequence[str],
    properties: Mapping[str, PropertyDefinition],
    association_types: Sequence[str],
    language: str,
) -> list[Column]:
    """The export's columns for a mode.

    `view_properties` is the view's column order; `properties` every property
    of the object type by name; `association_types` the associated object types
    to add columns for, after the properties (VIEW and
    ALL_PROPERTIES_AND_ASSOCIATIONS; ALL_PROPERTIES has no associations).
    """
    if mode is ExportColumnsMode.VIEW:
        columns = [
            _record_id_column(language)
            if name == RECORD_ID_PROPERTY
            else _property_column(name, properties, language)
            for name in view_properties
        ]
        for association_type in association_types:  # the requested ones, last
            columns.extend(_association_columns(association_type, language))
        return columns

    others = [
        _property_column(name, properties, language)
        for name in properties
        if name != RECORD_ID_PROPERTY
    ]
    # Alphabetical as the reader sees it: by the header in the chosen language.
    others.sort(key=lambda column: (column.header.casefold(), column.key))
    columns = [_record_id_column(language), *others]
    if mode is ExportColumnsMode.ALL_PROPERTIES_AND_ASSOCIATIONS:
        for association_type in association_types:
            columns.extend(_association_columns(association_type, language))
    return columns
