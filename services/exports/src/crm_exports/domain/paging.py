"""How an export reads every matching record through the search API.

The search API pages with an offset (`after`) up to 10,000 results a query
(R-SRCH-1). So:
- an export of fewer than 10,000 records pages by offset and keeps the
  view's sorts;
- a larger one pages by keyset: sorted by Record ID (hs_object_id) ascending,
  each page asking for ids greater than the last one seen, which has no cap.
  Such an export comes in Record ID order, not the view's sort order.
The keyset filter is ANDed into every filter group (OR of ANDs stays right).
"""

from __future__ import annotations

from typing import Any

from crm_exports.domain.requests import SearchSpec

SEARCH_RESULT_CAP = 10_000
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
