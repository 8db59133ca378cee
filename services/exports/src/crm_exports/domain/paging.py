"""How an export reads every matching record through the search service.

The hosted search API pages with an offset (`after`) up to 10,000 results a
query, 200 a page (R-SRCH-1). So:
- an export of fewer than 10,000 records pages by offset through the hosted
  search and keeps the view's sorts;
- a larger one reads search's export scan (`POST /search/v1/export-scan/{type}`):
  keyset pages of up to 10,000 records in Record ID order (`after` is the last
  id seen, no cap), each record with its associated records' names. Such an
  export comes in Record ID order, not the view's sort order.
`keyset_page_request` (the hosted search with `hs_object_id GT last` ANDed
into every filter group) stays for counting past the cap (`more_than`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from crm_exports.domain.associations import (
    ASSOCIATION_CAP,
    AssociationMode,
    name_properties,
)
from crm_exports.domain.requests import SearchSpec

SEARCH_RESULT_CAP = 10_000
SCAN_PAGE_MAX = 10_000  # the export scan's largest page
ID_PROPERTY = "hs_object_id"
ID_ORDER = [{"propertyName": ID_PROPERTY, "direction": "ASCENDING"}]


def offset_page_request(search: SearchSpec, properties: list[str], after: int,
                        limit: int) -> dict[str, Any]:
    body: dict[str, Any] = {"filterGroups": search.filter_groups, "sorts": search.sorts,
                            "properties": properties, "limit": limit, "after": after}
    if search.query:
        body["query"] = search.query
    return body


def keyset_page_request(search: SearchSpec, properties: list[str], last_id: int,
                        limit: int, after: int = 0) -> dict[str, Any]:
    """Records with an id above `last_id`, in id order (`after` skips within them)."""
    greater = {"propertyName": ID_PROPERTY, "operator": "GT", "value": str(last_id)}
    groups = search.filter_groups or [{"filters": []}]
    body: dict[str, Any] = {
        "filterGroups": [{**g, "filters": [*g.get("filters", []), greater]} for g in groups],
        "sorts": ID_ORDER, "properties": properties, "limit": limit, "after": after}
    if search.query:
        body["query"] = search.query
    return body


def uses_keyset(total: int) -> bool:
    """The search API's total stops counting at the cap: then offsets cannot reach the end."""
    return total >= SEARCH_RESULT_CAP


def scan_request(search: SearchSpec, properties: list[str], after_id: int, limit: int,
                 association_types: Sequence[str], mode: AssociationMode) -> dict[str, Any]:
    """One export-scan page: records above `after_id`, each with the associated records
    a cell can hold (the first 1,000 by id, or all), named by their name properties."""
    body: dict[str, Any] = {
        "filterGroups": search.filter_groups, "properties": properties,
        "after": str(after_id), "limit": limit,
        "associations": [{"toObjectType": to_type, "properties": name_properties(to_type),
                          "limit": None if mode is AssociationMode.ALL else ASSOCIATION_CAP}
                         for to_type in association_types]}
    if search.query:
        body["query"] = search.query
    return body
