"""A workspace view (Customers, Services, Revenue) turned into an export request
(R-EXP-1, R-EXP-3): the view's filters, sorts and columns in its order.

The view definition is the workspace API's (GET /workspace/v1/views): `id`,
`tab`, `objectType`, `name`, `standard`, `filterGroups`, `columns`, `sorts`.
A standard *Owned by me* view is the user's records by the tab's CSM property,
ANDed into every filter group, as the workspace runs it. *Assigned in the last
30 days* is refused: who was assigned when is known only to the workspace's
own read model (and its run is capped at 100 records), so an export could not
match it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm_exports.domain.associations import name_properties
from crm_exports.domain.columns import RECORD_ID_PROPERTY

EXPORTABLE_TABS = ("customers", "services", "revenue")
OWNED_BY_ME = "owned_by_me"
# The hosted request fields a caller may set beside the view's own definition.
OPTION_FIELDS = ("format", "exportName", "language", "columns", "associatedObjectType",
                 "includeAllCompanyDomains", "overrideAssociatedObjectsPerDefinitionPerRowLimit")


class ViewNotExportable(ValueError):
    """The view cannot be exported (its tab, or a standard view the exporter cannot run)."""


def view_columns(view: Mapping[str, Any]) -> list[str]:
    """The view's columns in its order; a view without columns exports its record
    id and the properties the object is named by."""
    columns = [str(c) for c in view.get("columns") or []]
    return columns or [RECORD_ID_PROPERTY, *name_properties(str(view.get("objectType")))]


def view_export_request(view: Mapping[str, Any], options: Mapping[str, Any], user_id: int,
                        csm_property: str) -> dict[str, Any]:
    """The hosted export request for `view` run by `user_id` (checked later by
    requests.parse_export_request like any other)."""
    tab = view.get("tab")
    if tab not in EXPORTABLE_TABS:
        raise ViewNotExportable(f"views of the {tab} tab are not exported; "
                                f"export a Customers, Services or Revenue view")
    required: list[dict[str, Any]] = []
    if view.get("standard") == OWNED_BY_ME:
        required.append({"propertyName": csm_property, "operator": "EQ", "value": str(user_id)})
    elif view.get("standard"):
        raise ViewNotExportable(
            f"the standard view '{view.get('name')}' cannot be exported: its records come from "
            "the workspace's assignment history; save a view with filters and export that")
    groups = [list(g.get("filters") or []) for g in view.get("filterGroups") or []] or [[]]
    filter_groups = [{"filters": [*required, *group]} for group in groups]
    return {
        **{k: options[k] for k in OPTION_FIELDS if options.get(k) is not None},
        "exportType": "VIEW",
        "exportName": options.get("exportName") or view.get("name"),
        "objectType": view.get("objectType"),
        "objectProperties": view_columns(view),
        "publicCrmSearchRequest": {
            "filterGroups": [g for g in filter_groups if g["filters"]],
            "sorts": [dict(s) for s in view.get("sorts") or []]},
    }
