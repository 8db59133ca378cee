"""Association and company-domain cells (R-EXP-4).

An association column holds the associated records' names or ids joined by
";". By default at most 1,000 per cell, as the hosted CRM does; "all of them"
is offered for CSV only, because an XLSX or XLS cell holds at most 32,767
characters, which a few thousand ids already exceed.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from itertools import islice

from crm_exports.domain.safety import neutralise

SEPARATOR = ";"
ASSOCIATION_CAP = 1000


class AssociationMode(StrEnum):
    FIRST_1000 = "FIRST_1000"
    ALL = "ALL"


class ExportFormat(StrEnum):
    CSV = "CSV"
    XLSX = "XLSX"
    XLS = "XLS"


class AllAssociationsNeedCsv(ValueError):
    """Raised when every associated record is asked for in a format other than CSV."""


def check_association_mode(mode: AssociationMode, fmt: ExportFormat) -> None:
    """Refuse ALL for XLSX and XLS; call it when the export is requested."""
    if mode is AssociationMode.ALL and fmt is not ExportFormat.CSV:
        raise AllAssociationsNeedCsv(
            f"all associated records can only be exported as CSV, not {fmt.value}"
        )


def association_cell(
    names_or_ids: Iterable[str | int], mode: AssociationMode, fmt: ExportFormat
) -> str:
    """Join associated names or ids with ";", capped at 1,000 unless mode is ALL (CSV only).

    Each part is neutralised on its own: a reader splitting on ";" (the list
    separator of Dutch, German, French and Spanish spreadsheets) must not find
    a formula at the start of any piece.
    """
    check_association_mode(mode, fmt)
    parts: Iterable[str | int] = names_or_ids
    if mode is AssociationMode.FIRST_1000:
        parts = islice(names_or_ids, ASSOCIATION_CAP)
    return SEPARATOR.join(neutralise(str(part)) for part in parts)


def company_domains_cell(
    domain: str | None, additional_domains: Iterable[str], all_domains: bool
) -> str:
    """The primary domain, or on request every domain (primary first, no repeats)."""
    domains = [domain] if domain else []
    if all_domains:
        for extra in additional_domains:
            extra = extra.strip()
            if extra and extra not in domains:
                domains.append(extra)
    return SEPARATOR.join(neutralise(d) for d in domains)
