"""One record turned into one row of raw cell values, aligned with the columns.

Raw values are neutralised and typed by the writers (domain.safety.cell_value),
so no writer can put unchecked text in a cell.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from crm_exports.domain.associations import (
    SEPARATOR,
    AssociationMode,
    ExportFormat,
    associated_name,
    association_cell,
    company_domains_cell,
)
from crm_exports.domain.columns import Column

ADDITIONAL_DOMAINS_PROPERTY = "hs_additional_domains"


@dataclass(frozen=True)
class AssociatedRecord:
    id: int
    name: str


@dataclass(frozen=True)
class ExportRecord:
    id: int
    properties: Mapping[str, str | None]
    associations: Mapping[str, Sequence[AssociatedRecord]] = field(default_factory=dict)


def associated_records(object_type: str, associated_ids: Sequence[int],
                       visible: Mapping[int, Mapping[str, str | None]]
                       ) -> list[AssociatedRecord]:
    """The associated records of one row, in id order, named; an id missing from
    `visible` (the records the user may see) is left out, name and id alike."""
    return [AssociatedRecord(i, associated_name(object_type, i, visible[i]))
            for i in associated_ids if i in visible]


@dataclass(frozen=True)
class RowOptions:
    fmt: ExportFormat
    association_mode: AssociationMode = AssociationMode.FIRST_1000
    all_company_domains: bool = False


def _property_value(record: ExportRecord, column: Column, options: RowOptions) -> str | None:
    value = record.properties.get(column.key)
    if column.key == "domain" and options.all_company_domains:
        extra = record.properties.get(ADDITIONAL_DOMAINS_PROPERTY) or ""
        return company_domains_cell(value, extra.split(SEPARATOR), all_domains=True)
    return value


def build_row(record: ExportRecord, columns: Sequence[Column], options: RowOptions) -> list:
    row: list = []
    for column in columns:
        if column.kind == "record_id":
            row.append(record.id)
        elif column.kind == "association":
            associated = record.associations.get(column.key, ())
            parts = (a.name if column.association_part == "names" else a.id for a in associated)
            row.append(association_cell(parts, options.association_mode, options.fmt))
        else:
            row.append(_property_value(record, column, options))
    return row
