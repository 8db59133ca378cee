"""An export request in the hosted CRM's shape, checked and normalised (R-EXP-1..4).

POST /crm/v3/exports/export/async takes `exportType` (VIEW, or LIST with a
`listId`: the list's members), `format` (CSV, XLSX, XLS), `exportName`,
`language` (EN, NL, DE, FR, ES), `objectType`, `objectProperties` (the view's
columns in order), `associatedObjectType` (one type, a list, or several
comma-separated: a names and an ids column each, last) and, for a VIEW,
`publicCrmSearchRequest` (the view's filters: `filterGroups`, or the SDK's
flat `filters` ANDed together, `sorts`, `query`).

Our own optional fields: `columns` (VIEW, ALL_PROPERTIES,
ALL_PROPERTIES_AND_ASSOCIATIONS; R-EXP-3) and `includeAllCompanyDomains`
(R-EXP-4). The hosted `overrideAssociatedObjectsPerDefinitionPerRowLimit`
asks for every associated record (CSV only, R-EXP-4).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from crm_exports.domain.associations import (
    AllAssociationsNeedCsv,
    AssociationMode,
    ExportFormat,
    check_association_mode,
    default_association_types,
)
from crm_exports.domain.columns import ExportColumnsMode
from crm_exports.domain.translations import SUPPORTED_LANGUAGES

MAX_NAME_LENGTH = 200
MAX_PROPERTIES = 1_000
MAX_ASSOCIATION_TYPES = 10
LISTS_OBJECT_TYPE = "contacts"  # lists hold contacts only (records, R-MKT-3)

OBJECT_TYPE_ALIASES = {
    "contact": "contacts", "0-1": "contacts", "company": "companies", "0-2": "companies",
    "deal": "deals", "0-3": "deals", "ticket": "tickets", "0-5": "tickets",
    "service": "services", "0-162": "services",
}


class ExportRequestInvalid(ValueError):
    """A request the service refuses (400); the message says what to change."""

    def __init__(self, message: str, field_name: str) -> None:
        super().__init__(message)
        self.field_name = field_name


@dataclass(frozen=True)
class SearchSpec:
    """The view's filters as the search API takes them."""

    filter_groups: list[dict[str, Any]] = field(default_factory=list)
    sorts: list[dict[str, str]] = field(default_factory=list)
    query: str | None = None


@dataclass(frozen=True)
class ExportSpec:
    export_name: str
    format: ExportFormat
    language: str  # lower case, one of SUPPORTED_LANGUAGES
    object_type: str
    object_properties: list[str]
    columns: ExportColumnsMode
    association_mode: AssociationMode
    all_company_domains: bool
    search: SearchSpec
    # The associated object types with a names and an ids column each (R-EXP-4).
    association_types: list[str] = field(default_factory=list)
    # A LIST export's list; its members are the rows (no search filters then).
    list_id: int | None = None
    # A workspace view's id when the export came from one (for the record only).
    view_id: str | None = None

    @property
    def export_type(self) -> str:
        return "LIST" if self.list_id is not None else "VIEW"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ExportSpec:
        return cls(**{**data, "format": ExportFormat(data["format"]),
                      "columns": ExportColumnsMode(data["columns"]),
                      "association_mode": AssociationMode(data["association_mode"]),
                      "search": SearchSpec(**data["search"])})


def canonical_object_type(reference: str) -> str:
    name = reference.strip().lower()
    return OBJECT_TYPE_ALIASES.get(name, name)


def _choice(body: Mapping[str, Any], name: str, allowed: tuple[str, ...],
            default: str | None = None) -> str:
    raw = body.get(name, default)
    value = str(raw).upper() if raw is not None else None
    if value not in allowed:
        raise ExportRequestInvalid(
            f"{name} must be one of {', '.join(allowed)}, not {raw!r}", name)
    return value


def _sorts(raw: Any) -> list[dict[str, str]]:
    """Sorts as objects ({propertyName, direction}) or the SDK's strings ("-name" descends)."""
    sorts = []
    for item in raw or []:
        if isinstance(item, str):
            descending = item.startswith("-")
            sorts.append({"propertyName": item.lstrip("-"),
                          "direction": "DESCENDING" if descending else "ASCENDING"})
        elif isinstance(item, Mapping) and item.get("propertyName"):
            sorts.append({"propertyName": str(item["propertyName"]),
                          "direction": str(item.get("direction") or "ASCENDING").upper()})
        else:
            raise ExportRequestInvalid(f"sort {item!r} names no property",
                                       "publicCrmSearchRequest.sorts")
    return sorts


def _search(raw: Any) -> SearchSpec:
    if raw is None:
        return SearchSpec()
    if not isinstance(raw, Mapping):
        raise ExportRequestInvalid("publicCrmSearchRequest must be an object",
                                   "publicCrmSearchRequest")
    groups = list(raw.get("filterGroups") or [])
    flat = list(raw.get("filters") or [])
    if flat:  # the SDK's shape: one list of filters, all of which must hold
        groups.append({"filters": flat})
    query = raw.get("query")
    return SearchSpec(filter_groups=groups, sorts=_sorts(raw.get("sorts")),
                      query=str(query) if query else None)


def _association_types(raw: Any, object_type: str, columns: ExportColumnsMode) -> list[str]:
    """`associatedObjectType` as one name, a list, or comma-separated names."""
    items = raw if isinstance(raw, list | tuple) else str(raw or "").split(",")
    types = list(dict.fromkeys(canonical_object_type(str(t)) for t in items if str(t).strip()))
    if columns is ExportColumnsMode.ALL_PROPERTIES and types:
        raise ExportRequestInvalid(
            "ALL_PROPERTIES has no association columns; ask for "
            "ALL_PROPERTIES_AND_ASSOCIATIONS or leave associatedObjectType out",
            "associatedObjectType")
    if columns is ExportColumnsMode.ALL_PROPERTIES_AND_ASSOCIATIONS and not types:
        types = default_association_types(object_type)
    if len(types) > MAX_ASSOCIATION_TYPES:
        raise ExportRequestInvalid(f"at most {MAX_ASSOCIATION_TYPES} associated object types",
                                   "associatedObjectType")
    return types


def _list_id(body: Mapping[str, Any]) -> int:
    raw = str(body.get("listId") or "").strip()
    if not raw.isdigit():
        raise ExportRequestInvalid("a LIST export needs the listId of the list to export",
                                   "listId")
    return int(raw)


def parse_export_request(body: Mapping[str, Any]) -> ExportSpec:
    """The normalised export, or ExportRequestInvalid naming the field to fix."""
    export_type = _choice(body, "exportType", ("VIEW", "LIST"), "VIEW")
    list_id = _list_id(body) if export_type == "LIST" else None
    fmt = ExportFormat(_choice(body, "format", tuple(f.value for f in ExportFormat)))
    name = str(body.get("exportName") or "").strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise ExportRequestInvalid(
            f"exportName is required, at most {MAX_NAME_LENGTH} characters", "exportName")
    language = _choice(body, "language", tuple(x.upper() for x in SUPPORTED_LANGUAGES),
                       "EN").lower()
    object_type = canonical_object_type(str(body.get("objectType") or ""))
    if list_id is not None:
        object_type = object_type or LISTS_OBJECT_TYPE
        if object_type != LISTS_OBJECT_TYPE:
            raise ExportRequestInvalid("lists hold contacts: a LIST export's objectType is "
                                       "CONTACT", "objectType")
    if not object_type:
        raise ExportRequestInvalid("objectType is required", "objectType")
    columns = ExportColumnsMode(_choice(body, "columns",
                                        tuple(m.value for m in ExportColumnsMode), "VIEW"))
    properties = [str(p) for p in body.get("objectProperties") or []]
    if columns is ExportColumnsMode.VIEW and not properties:
        raise ExportRequestInvalid("objectProperties lists the view's columns; it is empty",
                                   "objectProperties")
    if len(properties) > MAX_PROPERTIES:
        raise ExportRequestInvalid(f"at most {MAX_PROPERTIES} objectProperties",
                                   "objectProperties")
    association_types = _association_types(body.get("associatedObjectType"), object_type,
                                           columns)
    association_mode = (AssociationMode.ALL
                        if body.get("overrideAssociatedObjectsPerDefinitionPerRowLimit")
                        else AssociationMode.FIRST_1000)
    try:
        check_association_mode(association_mode, fmt)
    except AllAssociationsNeedCsv as refused:
        raise ExportRequestInvalid(
            str(refused), "overrideAssociatedObjectsPerDefinitionPerRowLimit") from None
    return ExportSpec(
        export_name=name, format=fmt, language=language, object_type=object_type,
        object_properties=list(dict.fromkeys(properties)), columns=columns,
        association_mode=association_mode,
        all_company_domains=bool(body.get("includeAllCompanyDomains")),
        # A list's members are its rows: the view filters do not apply to it.
        search=SearchSpec() if list_id is not None else _search(
            body.get("publicCrmSearchRequest")),
        association_types=association_types, list_id=list_id)
