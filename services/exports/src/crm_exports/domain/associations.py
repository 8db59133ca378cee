"""Association and company-domain cells (R-EXP-4).

An association column holds the associated records' names or ids joined by
";". By default at most 1,000 per cell, as the hosted CRM does; "all of them"
is offered for CSV only, because an XLSX or XLS cell holds at most 32,767
characters, which a few thousand ids already exceed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
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


# The properties an associated record is named by, per object type; the name is
# the first of them that has a value (contacts: "First Last", else the email).
NAME_PROPERTIES: dict[str, tuple[str, ...]] = {
    "contacts": ("firstname", "lastname", "email"),
    "companies": ("name", "domain"),
    "deals": ("dealname",),
    "tickets": ("subject",),
    "services": ("hs_name",),
}
# What ALL_PROPERTIES_AND_ASSOCIATIONS exports when the request names no
# associated object type: every standard one but the exported type itself.
STANDARD_ASSOCIATION_TYPES: tuple[str, ...] = ("contacts", "companies", "deals", "tickets")


def default_association_types(object_type: str) -> list[str]:
    return [t for t in STANDARD_ASSOCIATION_TYPES if t != object_type]


def name_properties(object_type: str) -> list[str]:
    return list(NAME_PROPERTIES.get(object_type, ()))


def associated_name(object_type: str, record_id: int,
                    properties: Mapping[str, str | None]) -> str:
    """How an associated record is named in its column: a contact by its first and
    last name (else its email), others by their name property, else the id."""
    if object_type == "contacts":
        full = " ".join(p for p in (properties.get("firstname"), properties.get("lastname"))
                        if p and p.strip())
        if full:
            return full.strip()
    for name in NAME_PROPERTIES.get(object_type, ()):
        value = properties.get(name)
        if value and value.strip():
            return value.strip()
    return str(record_id)


def ids_to_name(associated_ids: Sequence[int], mode: AssociationMode) -> Sequence[int]:
    """The associated ids a cell can hold: the first 1,000 (ascending, as records
    lists them) unless every one is asked for. Names are looked up for these only."""
    return associated_ids if mode is AssociationMode.ALL else associated_ids[:ASSOCIATION_CAP]
