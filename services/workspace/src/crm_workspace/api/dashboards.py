"""Dashboards on the Summary tab (R-CSW-10): add an existing dashboard for everyone
or chosen teams, only with an explicit confirmation that they gain access."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from crm_platform.identity.principal import Principal
from crm_platform.problem import ApiError
from crm_workspace.api.common import storable_text
from crm_workspace.api.deps import area, container
from crm_workspace.bootstrap import Container
from crm_workspace.domain.access import Area
from crm_workspace.domain.dashboards import (
    DashboardGrant,
    DashboardRuleBroken,
    check_grant,
    visible_to,
)

Text = Annotated[str, AfterValidator(storable_text)]
router = APIRouter(prefix="/workspace/v1/dashboards", tags=["dashboards"])
Caller = Annotated[Principal, Depends(area(Area.DASHBOARDS))]
App = Annotated[Container, Depends(container)]


class DashboardIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dashboardId: Text = Field(min_length=1, max_length=100)
    name: Text = Field(min_length=1, max_length=200)
    visibility: Literal["everyone", "teams"] = "everyone"
    teamIds: list[int] = Field(default_factory=list, max_length=100)
    confirmAccess: bool = Field(False, description="must be true: the chosen users gain "
                                                   "access to the dashboard")


class DashboardOut(BaseModel):
    id: str
    dashboardId: str
    name: str
    visibility: str
    teamIds: list[int]
    addedBy: int
    addedAt: datetime


class DashboardsPage(BaseModel):
    results: list[DashboardOut]


def _out(row) -> DashboardOut:  # type: ignore[no-untyped-def]
    return DashboardOut(id=str(row["id"]), dashboardId=row["dashboard_id"], name=row["name"],
                        visibility=row["visibility"], teamIds=list(row["team_ids"]),
                        addedBy=row["added_by"], addedAt=row["added_at"])


@router.get("", response_model=DashboardsPage)
async def list_dashboards(caller: Caller, app: App) -> DashboardsPage:
    rows = await app.pool.fetch("SELECT * FROM workspace_dashboards WHERE account_id = $1 "
                                "ORDER BY added_at, id", caller.account_id)
    return DashboardsPage(results=[_out(r) for r in rows if caller.super_admin or visible_to(
        DashboardGrant(r["dashboard_id"], r["visibility"], frozenset(r["team_ids"])),
        caller.team_ids)])


@router.post("", status_code=201, response_model=DashboardOut)
async def add_dashboard(body: DashboardIn, caller: Caller, app: App) -> DashboardOut:
    grant = DashboardGrant(body.dashboardId, body.visibility, frozenset(body.teamIds))
    teams = await app.pool.fetchval(
        "SELECT coalesce(array_agg(DISTINCT t), '{}') FROM identity_users, unnest(team_ids) t "
        "WHERE account_id = $1", caller.account_id)
    try:
        check_grant(grant, body.confirmAccess, set(teams))
    except DashboardRuleBroken as broken:
        raise ApiError(400, str(broken), [{"message": str(broken), "in": "confirmAccess"
                                           if "confirmAccess" in str(broken) else "body"}]
                       ) from None
    row = await app.pool.fetchrow("""
        INSERT INTO workspace_dashboards (id, account_id, dashboard_id, name, visibility,
            team_ids, added_by) VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (account_id, dashboard_id) DO NOTHING RETURNING *""",
        uuid.uuid4(), caller.account_id, body.dashboardId, body.name, body.visibility,
        sorted(grant.team_ids) if body.visibility == "teams" else [], caller.user_id)
    if row is None:
        raise ApiError(409, f"Dashboard {body.dashboardId} is already added")
    return _out(row)


@router.delete("/{id}", status_code=204, response_class=Response)
async def remove_dashboard(id: str, caller: Caller, app: App) -> Response:
    try:
        key = uuid.UUID(id)
    except ValueError:
        raise ApiError(404, f"Dashboard {id} not found") from None
    deleted = await app.pool.fetchval("DELETE FROM workspace_dashboards WHERE account_id = $1 "
                                      "AND id = $2 RETURNING 1", caller.account_id, key)
    if not deleted:
        raise ApiError(404, f"Dashboard {id} not found")
    return Response(status_code=204)
