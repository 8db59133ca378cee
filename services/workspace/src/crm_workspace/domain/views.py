"""Saved views of the Customers, Services, Revenue and Actions tabs (R-CSW-4,
R-CSW-6, R-CSW-7), and how a view becomes a search request.

Standard views (*Owned by me*, *Assigned in the last 30 days*) are seeded per
account; they can be deleted, never edited. Custom views are private or
shared with everyone. Up to six views shared with everyone are defaults, in
an order that can be changed, each with a description. Who may share is an
access rule (domain.access.can_share_view), not decided here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

TABS = ("customers", "services", "revenue", "tasks")
SHARINGS = ("private", "everyone")
MAX_DEFAULTS = 6
OWNED_BY_ME = "owned_by_me"
ASSIGNED_LAST_30_DAYS = "assigned_last_30_days"
ASSIGNMENT_WINDOW = timedelta(days=30)
STANDARD_VIEWS = {
    OWNED_BY_ME: ("Owned by me", "Customers whose CSM is me."),
    ASSIGNED_LAST_30_DAYS: ("Assigned in the last 30 days",
                            "Customers whose CSM was set to me in the last 30 days."),
}
# Filters every customers tab offers besides any property (R-CSW-4, R-CSW-6).
CREATE_DATE = "createdate"
LAST_ACTIVITY_DATE = "last_activity_date"


class ViewRuleBroken(ValueError):
    """A view change the rules refuse; the message says which rule."""


@dataclass(frozen=True)
class View:
    id: str
    tab: str
    object_type: str
    name: str
    sharing: str = "private"
    owner_user_id: int | None = None
    standard: str | None = None  # OWNED_BY_ME or ASSIGNED_LAST_30_DAYS
    description: str = ""
    default_position: int | None = None  # 1..6 for a default view
    filter_groups: tuple[Mapping[str, Any], ...] = ()
    columns: tuple[str, ...] = ()
    sorts: tuple[Mapping[str, Any], ...] = ()
    version: int = 1

    def visible_to(self, user_id: int) -> bool:
        return self.sharing == "everyone" or self.owner_user_id == user_id


def standard_views(object_type: str) -> list[View]:
    """The two standard customer views, shared with everyone (their ids are per account)."""
    return [View(id="", tab="customers", object_type=object_type, name=name, sharing="everyone",
                 standard=key, description=description)
            for key, (name, description) in STANDARD_VIEWS.items()]


def check_view(view: View) -> None:
    if view.tab not in TABS:
        raise ViewRuleBroken(f"tab must be one of {', '.join(TABS)}")
    if view.sharing not in SHARINGS:
        raise ViewRuleBroken("sharing must be private or everyone")
    if not view.name.strip():
        raise ViewRuleBroken("a view needs a name")
    if view.default_position is not None:
        if view.sharing != "everyone":
            raise ViewRuleBroken("only a view shared with everyone can be a default")
        if not view.description.strip():
            raise ViewRuleBroken("a default view needs a description")


def check_editable(existing: View) -> None:
    if existing.standard:
        raise ViewRuleBroken(f"'{existing.name}' is a standard view: it can be deleted, "
                             f"not edited")


def next_default_position(views: Sequence[View], tab: str, excluding: str = "") -> int:
    """Where a new default goes (last), refusing a seventh."""
    defaults = [v for v in views if v.tab == tab and v.default_position and v.id != excluding]
    if len(defaults) >= MAX_DEFAULTS:
        raise ViewRuleBroken(f"at most {MAX_DEFAULTS} views can be defaults; remove one first")
    return len(defaults) + 1


def reorder_defaults(views: Sequence[View], tab: str, order: Sequence[str]) -> dict[str, int]:
    """New positions (view id -> 1..n); `order` must name every current default once."""
    current = {v.id for v in views if v.tab == tab and v.default_position}
    if len(order) != len(set(order)) or set(order) != current:
        raise ViewRuleBroken("the new order must list every default view exactly once: "
                             + ", ".join(sorted(current)))
    return {view_id: index for index, view_id in enumerate(order, start=1)}


# ---- running a view ---------------------------------------------------------


@dataclass(frozen=True)
class ViewRun:
    """What a run of a view asks the search API (R-SRCH-1 body), or that it is
    known to be empty without asking (an assignment view with no assignments)."""

    body: dict[str, Any] = field(default_factory=dict)
    empty: bool = False


def run_view(view: View, *, user_id: int, csm_property: str,
             assigned_record_ids: Sequence[int] = (),
             extra_filters: Sequence[Mapping[str, Any]] = (),
             properties: Sequence[str] = (), limit: int = 100, after: str | None = None
             ) -> ViewRun:
    """The search body for `view` run by `user_id`: the view's filter groups, each
    ANDed with the standard view's condition and the tab's extra filters."""
    required: list[dict[str, Any]] = []
    if view.standard == OWNED_BY_ME:
        required.append({"propertyName": csm_property, "operator": "EQ", "value": str(user_id)})
    elif view.standard == ASSIGNED_LAST_30_DAYS:
        if not assigned_record_ids:
            return ViewRun(empty=True)
        required.append({"propertyName": "hs_object_id", "operator": "IN",
                         "values": [str(i) for i in assigned_record_ids]})
    required.extend(dict(f) for f in extra_filters)
    groups = [list(g.get("filters", ())) for g in view.filter_groups] or [[]]
    filter_groups = [{"filters": [*required, *group]} for group in groups]
    body: dict[str, Any] = {"limit": limit}
    if any(g["filters"] for g in filter_groups):
        body["filterGroups"] = filter_groups
    chosen = list(dict.fromkeys([*view.columns, *properties]))
    if chosen:
        body["properties"] = chosen
    if view.sorts:
        body["sorts"] = [dict(s) for s in view.sorts]
    if after:
        body["after"] = after
    return ViewRun(body=body)


def date_range_filter(property_name: str, start: datetime | None, end: datetime | None
                      ) -> list[dict[str, Any]]:
    """Create-date and last-activity filters of the tabs, as search filters."""
    out: list[dict[str, Any]] = []
    if start:
        out.append({"propertyName": property_name, "operator": "GTE", "value": _iso(start)})
    if end:
        out.append({"propertyName": property_name, "operator": "LT", "value": _iso(end)})
    return out


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
