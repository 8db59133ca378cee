"""Services and Revenue boards (R-CSW-6): per selected pipeline, cards grouped by
stage with counts and amounts, read through the search API; moving a card is
a records update whose refusal (R-PIPE-2: missing required properties) is
handed back unchanged."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from crm_platform.identity.principal import Principal
from crm_platform.problem import ApiError
from crm_workspace.adapters import store
from crm_workspace.api.common import storable_text
from crm_workspace.api.deps import area, bearer, container
from crm_workspace.bootstrap import Container
from crm_workspace.domain.access import Area
from crm_workspace.domain.boards import (
    amount_property,
    board_columns,
    pipeline_property,
    stage_property,
)
from crm_workspace.domain.settings import ObjectSettings, WorkspaceSettings

Text = Annotated[str, AfterValidator(storable_text)]
router = APIRouter(prefix="/workspace/v1/boards", tags=["boards"])
Caller = Annotated[Principal, Depends(area(Area.SERVICES))]
App = Annotated[Container, Depends(container)]
Tab = Literal["services", "revenue"]
BOARD_LIMIT = 200


class Board(BaseModel):
    tab: str
    objectType: str
    pipelineId: str
    layout: str
    total: int
    columns: list[dict[str, Any]]


class MoveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    stageId: Text = Field(min_length=1, max_length=100)
    properties: dict[Text, Text | None] = Field(
        default_factory=dict, max_length=50,
        description="values the target stage requires, set in the same update")


def _chosen(tab: str, settings: WorkspaceSettings, object_type: str | None) -> ObjectSettings:
    if tab == "services":
        return settings.services
    chosen = settings.revenue_for(object_type or settings.revenue_default)
    if chosen is None:
        raise ApiError(404, f"'{object_type}' is not a revenue object of this workspace")
    return chosen


@router.get("/{tab}", response_model=Board)
async def board(tab: Tab, request: Request, caller: Caller, app: App,
                objectType: str | None = None, pipelineId: str | None = None,
                ownerId: int | None = None, name: str | None = None,
                limit: Annotated[int, Query(ge=1, le=BOARD_LIMIT)] = BOARD_LIMIT) -> Board:
    async with app.pool.acquire() as conn:
        settings, _ = await store.load_settings(conn, caller.account_id)
    chosen = _chosen(tab, settings, objectType)
    token = bearer(request)
    pipelines = await app.api.pipelines(token, chosen.object_type)
    visible = [p for p in pipelines if not chosen.pipelines or p["id"] in chosen.pipelines]
    wanted = pipelineId or chosen.default_pipeline or (visible[0]["id"] if visible else None)
    pipeline = next((p for p in visible if p["id"] == wanted), None)
    if pipeline is None:
        raise ApiError(404, f"Pipeline {wanted} not found among this tab's pipelines")
    filters: list[dict[str, Any]] = [{"propertyName": pipeline_property(chosen.object_type),
                                      "operator": "EQ", "value": pipeline["id"]}]
    if ownerId is not None:
        filters.append({"propertyName": "hubspot_owner_id", "operator": "EQ",
                        "value": str(ownerId)})
    if name:
        filters.append({"propertyName": "hs_name" if chosen.object_type != "deals"
                        else "dealname", "operator": "CONTAINS_TOKEN", "value": name})
    properties = [stage_property(chosen.object_type), chosen.csm_property,
                  "hubspot_owner_id", "dealname", "hs_name"]
    if amount_property(chosen.object_type):
        properties.append(amount_property(chosen.object_type))  # type: ignore[arg-type]
    answer, _ = await app.api.search(token, chosen.object_type, {
        "filterGroups": [{"filters": filters}], "properties": properties, "limit": limit})
    stages = sorted(pipeline.get("stages", []), key=lambda s: s.get("displayOrder", 0))
    return Board(tab=tab, objectType=chosen.object_type, pipelineId=pipeline["id"],
                 layout=chosen.default_layout, total=answer["total"],
                 columns=board_columns(stages, answer["results"], chosen.object_type))


@router.post("/{tab}/cards/{recordId}/move", response_model=dict[str, Any])
async def move_card(tab: Tab, recordId: str, body: MoveIn, request: Request, caller: Caller,
                    app: App, objectType: str | None = None) -> dict[str, Any]:
    async with app.pool.acquire() as conn:
        settings, _ = await store.load_settings(conn, caller.account_id)
    chosen = _chosen(tab, settings, objectType)
    return await app.api.update(bearer(request), chosen.object_type, recordId,
                                {**body.properties, stage_property(chosen.object_type):
                                 body.stageId})
