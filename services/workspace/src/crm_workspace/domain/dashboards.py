"""Dashboards added to the workspace (R-CSW-10): visible to everyone or to
chosen teams; adding one needs an explicit confirmation that those users gain
access to it."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

VISIBILITIES = ("everyone", "teams")


class DashboardRuleBroken(ValueError):
    pass


@dataclass(frozen=True)
class DashboardGrant:
    dashboard_id: str
    visibility: str
    team_ids: frozenset[int] = frozenset()


def check_grant(grant: DashboardGrant, confirmed: bool, account_team_ids: Collection[int]
                ) -> None:
    if grant.visibility not in VISIBILITIES:
        raise DashboardRuleBroken("visibility must be everyone or teams")
    if grant.visibility == "teams":
        if not grant.team_ids:
            raise DashboardRuleBroken("choose at least one team")
        unknown = sorted(set(grant.team_ids) - set(account_team_ids))
        if unknown:
            raise DashboardRuleBroken(f"unknown teams: {', '.join(map(str, unknown))}")
    if not confirmed:
        who = "everyone" if grant.visibility == "everyone" else "the chosen teams' members"
        raise DashboardRuleBroken(
            f"confirmAccess must be true: adding this dashboard gives {who} access to it")


def visible_to(grant: DashboardGrant, team_ids: Collection[int]) -> bool:
    return grant.visibility == "everyone" or not grant.team_ids.isdisjoint(team_ids)
