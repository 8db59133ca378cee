"""Saved views of the Customers, Services, Revenue and Actions tabs, and running
them through the search API (R-CSW-4, R-CSW-6, R-CSW-7)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from crm_contracts import topics
from crm_contracts.envelope import CloudEvent, record_key
from crm_contracts.workspace.v1 import ViewDeleted, ViewSaved
from crm_platform.identity.access import require
from crm_platform.identity.principal import Principal
from crm_platform.outbox import OutgoingEvent, enqueue
from crm_platform.problem import ApiError
from crm_workspace.adapters import store
from crm_workspace.api.common import storable_text
from crm_workspace.api.deps import area, bearer, container
from crm_workspace.bootstrap import Container
from crm_workspace.domain.access import Area, can_share_view
from crm_workspace.domain.settings import WorkspaceSettings
from crm_workspace.domain.views import (
    ASSIGNED_LAST_30_DAYS,
    ASSIGNMENT_WINDOW,
    CREATE_DATE,
    LAST_ACTIVITY_DATE,
    View,
    ViewRuleBroken,
    check_editable,
    check_view,
    date_range_filter,
    next_default_position,
    reorder_defaults,
    run_view,
    standard_views,
)

Text = Annotated[str, AfterValidator(storable_text)]
router = APIRouter(prefix="/workspace/v1/views", tags=["views"])
Caller = Annotated[Principal, Depends(area(Area.CUSTOMERS))]
App = Annotated[Container, Depends(container)]
Tab = Literal["customers", "services", "revenue", "tasks"]
SOURCE = "crm-workspace"
ASSIGNED_IDS_CAP = 100  # the search API's IN list; the run says when more were assigned


class Filter(BaseModel):
    model_config = ConfigDict(extra="forbid")
    propertyName: Text = Field(min_length=1, max_length=100)
    operator: Text = Field(min_length=1, max_length=30)
    value: Text | None = Field(None, max_length=1000)
    values: list[Text] | None = Field(None, max_length=100)
    highValue: Text | None = Field(None, max_length=1000)


class FilterGroup(BaseModel):
    model_config = ConfigDict(extra="forbid")
    filters: list[Filter] = Field(max_length=6)


class Sort(BaseModel):
    model_config = ConfigDict(extra="forbid")
    propertyName: Text = Field(min_length=1, max_length=100)
    direction: Literal["ASCENDING", "DESCENDING"] = "ASCENDING"


class ViewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tab: Tab = "customers"
    objectType: Text | None = Field(None, max_length=100, description="revenue tab only")
    name: Text = Field(min_length=1, max_length=200)
    sharing: Literal["private", "everyone"] = "private"
    description: Text = Field("", max_length=1000)
    isDefault: bool = False
    filterGroups: list[FilterGroup] = Field(default_factory=list, max_length=5)
    columns: list[Text] = Field(default_factory=list, max_length=50)
    sorts: list[Sort] = Field(default_factory=list, max_length=3)


class ViewOut(BaseModel):
    id: str
    tab: str
    objectType: str
    name: str
    sharing: str
    standard: str | None = None
    description: str
    defaultPosition: int | None = None
    ownerUserId: int | None = None
    filterGroups: list[dict[str, Any]]
    columns: list[str]
    sorts: list[dict[str, Any]]
    version: int


class ViewsPage(BaseModel):
    results: list[ViewOut]


class DefaultOrder(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tab: Tab = "customers"
    viewIds: list[Text] = Field(max_length=6)


class RunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    createdAfter: datetime | None = None
    createdBefore: datetime | None = None
    lastActivityAfter: datetime | None = None
    lastActivityBefore: datetime | None = None
    filters: list[Filter] = Field(default_factory=list, max_length=6,
                                  description="any property, ANDed with the view's filters")
    properties: list[Text] = Field(default_factory=list, max_length=50)
    limit: int = Field(100, ge=1, le=200)
    after: Text | None = Field(None, max_length=20)
    consistencyToken: Text | None = Field(None, max_length=4000)


class RunOut(BaseModel):
    viewId: str
    objectType: str
    total: int
    results: list[dict[str, Any]]
    paging: dict[str, Any] | None = None
    # The search index is built from events: a run reflects it as of now (R-SRCH-2).
    indexConsistency: str
    notes: list[Text] = Field(default_factory=list)


def view_out(view: View) -> ViewOut:
    return ViewOut(id=view.id, tab=view.tab, objectType=view.object_type, name=view.name,
                   sharing=view.sharing, standard=view.standard, description=view.description,
                   defaultPosition=view.default_position, ownerUserId=view.owner_user_id,
                   filterGroups=[dict(g) for g in view.filter_groups], columns=list(view.columns),
                   sorts=[dict(s) for s in view.sorts], version=view.version)


def object_type_for(tab: str, settings: WorkspaceSettings, requested: str | None) -> str:
    if tab == "customers":
        return settings.customers.object_type
    if tab == "services":
        return settings.services.object_type
    if tab == "tasks":
        return "tasks"
    chosen = requested or settings.revenue_default
    if settings.revenue_for(chosen) is None:
        raise ApiError(400, f"'{chosen}' is not a revenue object of this workspace",
                       [{"message": "objectType: not a chosen revenue object", "in": "objectType"}])
    return chosen


def csm_property_for(view: View, settings: WorkspaceSettings) -> str:
    chosen = {"customers": settings.customers, "services": settings.services}.get(view.tab) \
        or settings.revenue_for(view.object_type)
    return chosen.csm_property if chosen else "hubspot_owner_id"


def _rule(broken: ViewRuleBroken) -> ApiError:
    return ApiError(400, str(broken), [{"message": str(broken)}])


async def _publish(conn: Any, account_id: int, view: View | None, view_id: str,
                   now: datetime) -> None:
    if view is not None:
        data: Any = ViewSaved(account_id=account_id, view_id=view.id, tab=view.tab,
                              object_type=view.object_type, name=view.name,
                              sharing=view.sharing, owner_user_id=view.owner_user_id,
                              filter_groups=[dict(g) for g in view.filter_groups],
                              columns=list(view.columns), version=view.version, saved_at=now)
    else:
        data = ViewDeleted(account_id=account_id, view_id=view_id, deleted_at=now)
    await enqueue(conn, [OutgoingEvent(
        topics.WORKSPACE.name, record_key(account_id, "workspace_views", view_id),
        CloudEvent.of(data, source=SOURCE, subject=f"views/{view_id}", account_id=account_id))],
        channel="outbox_workspace")


async def visible_views(app: Container, caller: Principal, tab: str | None) -> list[View]:
    async with app.pool.acquire() as conn, conn.transaction():
        settings, _ = await store.load_settings(conn, caller.account_id)
        await store.seed_standard_views(conn, caller.account_id, "customers",
                                        standard_views(settings.customers.object_type))
        views = await store.list_views(conn, caller.account_id, tab)
    return [v for v in views if v.visible_to(caller.user_id)]


async def _own_view(app: Container, caller: Principal, view_id: str) -> View:
    async with app.pool.acquire() as conn:
        view = await store.get_view(conn, caller.account_id, view_id)
    if view is None or not view.visible_to(caller.user_id):
        raise ApiError(404, f"View {view_id} not found")
    return view


@router.get("", response_model=ViewsPage)
async def list_views(caller: Caller, app: App, tab: Tab | None = None) -> ViewsPage:
    return ViewsPage(results=[view_out(v) for v in await visible_views(app, caller, tab)])


@router.post("", status_code=201, response_model=ViewOut)
async def create_view(body: ViewIn, caller: Caller, app: App) -> ViewOut:
    require(can_share_view(caller, body.sharing, body.isDefault))
    async with app.pool.acquire() as conn, conn.transaction():
        settings, _ = await store.load_settings(conn, caller.account_id)
        existing = await store.list_views(conn, caller.account_id, body.tab)
        try:
            position = next_default_position(existing, body.tab) if body.isDefault else None
            view = View(id="", tab=body.tab,
                        object_type=object_type_for(body.tab, settings, body.objectType),
                        name=body.name, sharing=body.sharing, owner_user_id=caller.user_id,
                        description=body.description, default_position=position,
                        filter_groups=tuple(g.model_dump(exclude_none=True)
                                            for g in body.filterGroups),
                        columns=tuple(body.columns),
                        sorts=tuple(s.model_dump() for s in body.sorts))
            check_view(view)
        except ViewRuleBroken as broken:
            raise _rule(broken) from None
        saved = await store.insert_view(conn, caller.account_id, view)
        await _publish(conn, caller.account_id, saved, saved.id, app.clock())
    return view_out(saved)


@router.patch("/{viewId}", response_model=ViewOut)
async def edit_view(viewId: str, body: ViewIn, caller: Caller, app: App) -> ViewOut:
    existing = await _own_view(app, caller, viewId)
    require(can_share_view(caller, existing.sharing, existing.default_position is not None))
    require(can_share_view(caller, body.sharing, body.isDefault))
    async with app.pool.acquire() as conn, conn.transaction():
        try:
            check_editable(existing)
            views = await store.list_views(conn, caller.account_id, existing.tab)
            position = existing.default_position
            if body.isDefault and position is None:
                position = next_default_position(views, existing.tab)
            elif not body.isDefault:
                position = None
            view = View(id=existing.id, tab=existing.tab, object_type=existing.object_type,
                        name=body.name, sharing=body.sharing, owner_user_id=existing.owner_user_id,
                        description=body.description, default_position=position,
                        filter_groups=tuple(g.model_dump(exclude_none=True)
                                            for g in body.filterGroups),
                        columns=tuple(body.columns),
                        sorts=tuple(s.model_dump() for s in body.sorts))
            check_view(view)
        except ViewRuleBroken as broken:
            raise _rule(broken) from None
        saved = await store.update_view(conn, caller.account_id, view)
        await store.compact_default_positions(conn, caller.account_id, existing.tab)
        await _publish(conn, caller.account_id, saved, saved.id, app.clock())
    return view_out(saved)


@router.delete("/{viewId}", status_code=204, response_class=Response)
async def delete_view(viewId: str, caller: Caller, app: App) -> Response:
    existing = await _own_view(app, caller, viewId)
    require(can_share_view(caller, existing.sharing, existing.default_position is not None))
    async with app.pool.acquire() as conn, conn.transaction():
        await store.delete_view(conn, caller.account_id, existing.id)
        await store.compact_default_positions(conn, caller.account_id, existing.tab)
        await _publish(conn, caller.account_id, None, existing.id, app.clock())
    return Response(status_code=204)


@router.put("/defaults/order", response_model=ViewsPage)
async def order_defaults(body: DefaultOrder, caller: Caller, app: App) -> ViewsPage:
    require(can_share_view(caller, "everyone", True))
    async with app.pool.acquire() as conn, conn.transaction():
        views = await store.list_views(conn, caller.account_id, body.tab)
        try:
            positions = reorder_defaults(views, body.tab, body.viewIds)
        except ViewRuleBroken as broken:
            raise _rule(broken) from None
        await store.set_default_positions(conn, caller.account_id, positions)
        views = await store.list_views(conn, caller.account_id, body.tab)
    return ViewsPage(results=[view_out(v) for v in views if v.default_position])


@router.post("/{viewId}/run", response_model=RunOut)
async def run(viewId: str, body: RunIn, request: Request, caller: Caller, app: App) -> RunOut:
    view = await _own_view(app, caller, viewId)
    notes: list[str] = []
    async with app.pool.acquire() as conn:
        settings, _ = await store.load_settings(conn, caller.account_id)
        csm = csm_property_for(view, settings)
        assigned: list[int] = []
        if view.standard == ASSIGNED_LAST_30_DAYS:
            assigned = await store.assigned_record_ids(
                conn, caller.account_id, view.object_type, csm, caller.user_id,
                app.clock() - ASSIGNMENT_WINDOW, ASSIGNED_IDS_CAP + 1)
            if len(assigned) > ASSIGNED_IDS_CAP:
                assigned = assigned[:ASSIGNED_IDS_CAP]
                notes.append(f"only the {ASSIGNED_IDS_CAP} most recent assignments are shown")
    extra = [*date_range_filter(CREATE_DATE, body.createdAfter, body.createdBefore),
             *date_range_filter(LAST_ACTIVITY_DATE, body.lastActivityAfter,
                                body.lastActivityBefore),
             *(f.model_dump(exclude_none=True) for f in body.filters)]
    planned = run_view(view, user_id=caller.user_id, csm_property=csm,
                       assigned_record_ids=assigned, extra_filters=extra,
                       properties=body.properties, limit=body.limit, after=body.after)
    if planned.empty:
        return RunOut(viewId=view.id, objectType=view.object_type, total=0, results=[],
                      indexConsistency="not-needed", notes=notes)
    answer, consistency = await app.api.search(bearer(request), view.object_type, planned.body,
                                               body.consistencyToken)
    return RunOut(viewId=view.id, objectType=view.object_type, total=answer["total"],
                  results=answer["results"], paging=answer.get("paging"),
                  indexConsistency=consistency or "eventual", notes=notes)
