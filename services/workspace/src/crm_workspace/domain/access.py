"""Who may use which part of the workspace (R-CSW-1, R-CSW-2, R-CSW-3, R-CSW-4).

The permission rules themselves live in crm_platform.identity.access (every
service decides them the same way); this module says which rule guards which
tab or action of the workspace, so the API asks one question per route.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from crm_platform.identity.access import (
    ALLOWED,
    AccessDecision,
    can_access_cs_workspace,
    can_manage_cs_settings,
    can_manage_shared_views,
    can_view_as_other_user,
    can_view_cs_summary,
)
from crm_platform.identity.principal import Principal


class Area(StrEnum):
    SUMMARY = "summary"        # the only tab a super admin without a seat sees
    CUSTOMERS = "customers"
    SERVICES = "services"
    REVENUE = "revenue"
    ACTIONS = "actions"
    SCHEDULE = "schedule"
    FEED = "feed"
    PREVIEW = "preview"
    DASHBOARDS = "dashboards"  # viewing and adding reports lives on the Summary tab
    SETTINGS = "settings"


RULES: dict[Area, Callable[[Principal], AccessDecision]] = {
    Area.SUMMARY: can_view_cs_summary,
    Area.DASHBOARDS: can_view_cs_summary,
    Area.SETTINGS: can_manage_cs_settings,
    **{area: can_access_cs_workspace for area in (
        Area.CUSTOMERS, Area.SERVICES, Area.REVENUE, Area.ACTIONS, Area.SCHEDULE, Area.FEED,
        Area.PREVIEW)},
}


def can_use(principal: Principal, area: Area) -> AccessDecision:
    return RULES[area](principal)


def can_open_summary_of(principal: Principal, user_id: int) -> AccessDecision:
    """R-CSW-3: one's own Summary needs the Summary tab; another user's needs super
    admin or settings manager as well."""
    own = can_view_cs_summary(principal)
    if not own.allowed or user_id == principal.user_id:
        return own
    return can_view_as_other_user(principal)


def can_share_view(principal: Principal, sharing: str, is_default: bool) -> AccessDecision:
    """R-CSW-4: private views are anyone's with workspace access; views shared with
    everyone, and defaults, need super admin or cs_settings_manage."""
    if sharing == "private" and not is_default:
        return can_access_cs_workspace(principal)
    return can_manage_shared_views(principal)


__all__ = ["ALLOWED", "AccessDecision", "Area", "can_open_summary_of", "can_share_view",
           "can_use"]
