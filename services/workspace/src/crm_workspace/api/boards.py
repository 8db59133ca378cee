"""Services and Revenue tabs (R-CSW-6): per selected pipeline, filtered by owner,
name, create date, last activity date and any property, optionally through a
saved view of the tab, in the board layout (cards grouped by stage with counts
and amounts) or the table layout (rows, paged), read through the search API;
moving a card is a records update whose refusal (R-PIPE-2: missing required
properties) is handed back unchanged."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from crm_platform.identity.principal import Principal
from crm_platform.problem import ApiError
from crm_workspace.adapters import store
from crm_workspace.api.common import storable_text
from crm_workspace.api.deps import area, bearer, container
from crm_workspace.api.views import Filter
from crm_workspace.bootstrap import Container
from crm_workspace.domain.access import Area
from crm_workspace.domain.boards import (
    amount_property,
    board_columns,
    pipeline_property,
    stage_property,
)
from crm_workspace.domain.settings import ObjectSettings, WorkspaceSettings
from crm_workspace.domain.views import (
    CREATE_DATE,
    LAST_ACTIVITY_DATE,
    View,
    date_range_filter,
    run_view,
)

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
    viewId: str | None = None
    total: int
    columns: list[dict[str, Any]] | None = None  # board layout
    rows: list[dict[str, Any]] | None = None     # table layout
    paging: dict[str, Any] | None = None         # table layout


class BoardQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    objectType: Text | None = Field(None, max_length=100, description="revenue tab only")
    pipelineId: Text | None = Field(None, max_length=100)
    layout: Literal["board", "table"] | None = Field(
        None, description="the tab's default layout when absent")
    viewId: Text | None = Field(None, max_length=64, description="a saved view of this tab")
    ownerId: int | None = Field(None, ge=1, le=2**62)
    name: Text | None = Field(None, max_length=200)
    createdAfter: datetime | None = None
    createdBefore: datetime | None = None
    lastActivityAfter: datetime | None = None
    lastActivityBefore: datetime | None = None
    filters: list[Filter] = Field(default_factory=list, max_length=6,
                                  description="any property, ANDed with the rest")
    limit: int = Field(BOARD_LIMIT, ge=1, le=BOARD_LIMIT)
    after: Text | None = Field(None, max_length=20, description="table layout paging")


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


@router.get("/{tab}", response_model=Board, response_model_exclude_none=True)
async def board(tab: Tab, request: Request, caller: Caller, app: App,
                objectType: str | None = None, pipelineId: str | None = None,
                layout: Literal["board", "table"] | None = None, viewId: str | None = None,
                ownerId: int | None = None, name: str | None = None,
                createdAfter: datetime | None = None, createdBefore: datetime | None = None,
                lastActivityAfter: datetime | None = None,
                lastActivityBefore: datetime | None = None,
                limit: Annotated[int, Query(ge=1, le=BOARD_LIMIT)] = BOARD_LIMIT,
                after: str | None = None) -> Board:
    try:
        query = BoardQuery(objectType=objectType, pipelineId=pipelineId, layout=layout,
                           viewId=viewId, ownerId=ownerId, name=name,
                           createdAfter=createdAfter, createdBefore=createdBefore,
                           lastActivityAfter=lastActivityAfter,
                           lastActivityBefore=lastActivityBefore, limit=limit, after=after)
    except ValidationError as bad:
        raise ApiError(400, "invalid query: " + "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in bad.errors())) from None
    return await _run(tab, query, bearer(request), caller, app)


@router.post("/{tab}/query", response_model=Board, response_model_exclude_none=True)
async def board_query(tab: Tab, body: BoardQuery, request: Request, caller: Caller,
                      app: App) -> Board:
    """The same as GET, with filters on any property."""
    return await _run(tab, body, bearer(request), caller, app)


async def _run(tab: str, query: BoardQuery, token: str, caller: Principal, app: Container
               ) -> Board:
    async with app.pool.acquire() as conn:
        settings, _ = await store.load_settings(conn, caller.account_id)
        saved = (await store.get_view(conn, caller.account_id, query.viewId)
                 if query.viewId else None)
    chosen = _chosen(tab, settings, query.objectType)
    if query.viewId and (saved is None or not saved.visible_to(caller.user_id)):
        raise ApiError(404, f"View {query.viewId} not found")
    if saved is not None and (saved.tab != tab or saved.object_type != chosen.object_type):
        raise ApiError(400, f"view {saved.id} is a {saved.tab} view of {saved.object_type}, "
                       f"not of this tab's {chosen.object_type}",
                       [{"message": "viewId: another tab's view", "in": "viewId"}])
    pipelines = await app.api.pipelines(token, chosen.object_type)
    visible = [p for p in pipelines if not chosen.pipelines or p["id"] in chosen.pipelines]
    wanted = query.pipelineId or chosen.default_pipeline or (
        visible[0]["id"] if visible else None)
    pipeline = next((p for p in visible if p["id"] == wanted), None)
    if pipeline is None:
        raise ApiError(404, f"Pipeline {wanted} not found among this tab's pipelines")
    filters: list[dict[str, Any]] = [{"propertyName": pipeline_property(chosen.object_type),
                                      "operator": "EQ", "value": pipeline["id"]}]
    if query.ownerId is not None:
        filters.append({"propertyName": "hubspot_owner_id", "operator": "EQ",
                        "value": str(query.ownerId)})
    if query.name:
        filters.append({"propertyName": "hs_name" if chosen.object_type != "deals"
                        else "dealname", "operator": "CONTAINS_TOKEN", "value": query.name})
    filters += [*date_range_filter(CREATE_DATE, query.createdAfter, query.createdBefore),
                *date_range_filter(LAST_ACTIVITY_DATE, query.lastActivityAfter,
                                   query.lastActivityBefore),
                *(f.model_dump(exclude_none=True) for f in query.filters)]
    properties = [stage_property(chosen.object_type), chosen.csm_property,
                  "hubspot_owner_id", "dealname", "hs_name"]
    if amount_property(chosen.object_type):
        properties.append(amount_property(chosen.object_type))  # type: ignore[arg-type]
    layout = query.layout or chosen.default_layout
    view = saved or View(id="", tab=tab, object_type=chosen.object_type, name="")
    planned = run_view(view, user_id=caller.user_id, csm_property=chosen.csm_property,
                       extra_filters=filters, properties=properties, limit=query.limit,
                       after=query.after if layout == "table" else None)
    answer, _ = await app.api.search(token, chosen.object_type, planned.body)
    out = Board(tab=tab, objectType=chosen.object_type, pipelineId=pipeline["id"],
                layout=layout, viewId=saved.id if saved else None, total=answer["total"])
    if layout == "table":
        out.rows, out.paging = answer["results"], answer.get("paging")
    else:
        stages = sorted(pipeline.get("stages", []), key=lambda s: s.get("displayOrder", 0))
        out.columns = board_columns(stages, answer["results"], chosen.object_type)
    return out


@router.post("/{tab}/cards/{recordId}/move", response_model=dict[str, Any])
async def move_card(tab: Tab, recordId: str, body: MoveIn, request: Request, caller: Caller,
                    app: App, objectType: str | None = None) -> dict[str, Any]:
    async with app.pool.acquire() as conn:
        settings, _ = await store.load_settings(conn, caller.account_id)
    chosen = _chosen(tab, settings, objectType)
    return await app.api.update(bearer(request), chosen.object_type, recordId,
                                {**body.properties, stage_property(chosen.object_type):
                                 body.stageId})
