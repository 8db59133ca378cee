"""The Actions tab (R-CSW-7): task views through the search API, creating tasks
(and create-and-another), and bulk actions run as jobs with a report."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from crm_platform.identity.principal import Principal
from crm_platform.problem import ApiError
from crm_workspace.adapters import read_model, store
from crm_workspace.adapters.crm_api import UpstreamError
from crm_workspace.api.common import (
    UserIdQuery,
    ensure_user_in_account,
    storable_text,
    subject_user,
    time_zone,
)
from crm_workspace.api.deps import area, bearer, container
from crm_workspace.bootstrap import Container
from crm_workspace.domain.access import Area
from crm_workspace.domain.calendar import due_windows
from crm_workspace.domain.tasks import (
    TASK_PROPERTIES,
    BulkAction,
    BulkReport,
    TaskRuleBroken,
    custom_task_view_body,
    new_task_properties,
    task_view_filters,
)
from crm_workspace.domain.views import View
from crm_workspace.handlers.jobs import run_bulk_job

Text = Annotated[str, AfterValidator(storable_text)]
router = APIRouter(prefix="/workspace/v1", tags=["actions"])
Caller = Annotated[Principal, Depends(area(Area.ACTIONS))]
App = Annotated[Container, Depends(container)]
TaskView = Literal["overdue", "due_today", "due_tomorrow", "all", "completed"]
MAX_BULK = 10_000  # what one search can list (R-SRCH-1)


class TaskPage(BaseModel):
    view: str
    total: int
    results: list[dict[str, Any]]
    paging: dict[str, Any] | None = None


class TaskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subject: Text = Field(min_length=1, max_length=500)
    dueAt: datetime | None = None
    ownerId: int | None = Field(None, ge=1, le=2**62)
    properties: dict[Text, Text | None] = Field(default_factory=dict, max_length=50)
    createAnother: bool = False


class TaskCreated(BaseModel):
    task: dict[str, Any]
    # create-and-another: the form to show next, keeping owner and due date.
    another: dict[str, Any] | None = None


class TaskSelection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    view: TaskView = "all"
    viewId: Text | None = Field(None, max_length=64,
                                description="a custom task view (a saved tasks-tab view)")
    timeZone: Text = Field("UTC", max_length=64)


class BulkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Literal["mark_complete", "mark_incomplete", "assign", "edit_property", "delete"]
    taskIds: list[Text] | None = Field(None, max_length=MAX_BULK)
    matching: TaskSelection | None = Field(None, description="every task of this view")
    ownerId: int | None = Field(None, ge=1, le=2**62)
    propertyName: Text | None = Field(None, max_length=100)
    value: Text | None = Field(None, max_length=65536)


class JobOut(BaseModel):
    id: str
    kind: str
    status: str
    createdAt: datetime
    finishedAt: datetime | None = None
    report: dict[str, Any]


async def _search_tasks(app: Container, token: str, filters: list[dict[str, Any]],
                        limit: int, after: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"filterGroups": [{"filters": filters}],
                            "properties": list(TASK_PROPERTIES), "limit": limit,
                            "sorts": [{"propertyName": "hs_timestamp", "direction": "ASCENDING"}]}
    if after:
        body["after"] = after
    answer, _ = await app.api.search(token, "tasks", body)
    return answer


async def _custom_view(app: Container, caller: Principal, view_id: str) -> View:
    async with app.pool.acquire() as conn:
        found = await store.get_view(conn, caller.account_id, view_id)
    if found is None or not found.visible_to(caller.user_id):
        raise ApiError(404, f"View {view_id} not found")
    if found.tab != "tasks":
        raise ApiError(400, f"view {view_id} is a {found.tab} view, not a task view",
                       [{"message": "viewId: not a task view", "in": "viewId"}])
    return found


@router.get("/tasks", response_model=TaskPage)
async def list_tasks(request: Request, caller: Caller, app: App, view: TaskView = "all",
                     viewId: str | None = None,
                     timeZone: str = "UTC", userId: UserIdQuery = None,
                     limit: Annotated[int, Query(ge=1, le=200)] = 100,
                     after: str | None = None) -> TaskPage:
    if viewId is not None:  # a custom task view (R-CSW-7)
        custom = await _custom_view(app, caller, viewId)
        answer, _ = await app.api.search(bearer(request), "tasks",
                                         custom_task_view_body(custom, limit, after))
        return TaskPage(view=custom.name, total=answer["total"], results=answer["results"],
                        paging=answer.get("paging"))
    user_id = subject_user(caller, userId)
    if user_id != caller.user_id:
        await ensure_user_in_account(app.pool, caller.account_id, user_id)
    filters = task_view_filters(view, user_id, due_windows(app.clock(), time_zone(timeZone)))
    answer = await _search_tasks(app, bearer(request), filters, limit, after)
    return TaskPage(view=view, total=answer["total"], results=answer["results"],
                    paging=answer.get("paging"))


@router.post("/tasks", status_code=201, response_model=TaskCreated)
async def create_task(body: TaskIn, request: Request, caller: Caller, app: App) -> TaskCreated:
    owner = body.ownerId or caller.user_id
    try:
        properties = new_task_properties(body.subject, body.dueAt, owner, body.properties)
    except TaskRuleBroken as broken:
        raise ApiError(400, str(broken)) from None
    task = await app.api.create(bearer(request), "tasks", properties)
    another = ({"subject": "", "ownerId": owner,
                "dueAt": body.dueAt.isoformat() if body.dueAt else None}
               if body.createAnother else None)
    return TaskCreated(task=task, another=another)


async def _matching_ids(app: Container, caller: Principal, token: str, user_id: int,
                        selection: TaskSelection) -> list[str]:
    """The ids a bulk action over a selection changes. A standard view is one query
    of the read model (its typed columns hold what the view filters on); a custom
    view's filters may name any property, so it pages through search (200 a page,
    search's most)."""
    if selection.viewId is None:
        filters = task_view_filters(selection.view, user_id,
                                    due_windows(app.clock(), time_zone(selection.timeZone)))
        async with app.pool.acquire() as conn:
            return await read_model.matching_task_ids(conn, caller, filters, MAX_BULK)
    custom = await _custom_view(app, caller, selection.viewId)
    ids: list[str] = []
    after: str | None = None
    while len(ids) < MAX_BULK:
        page, _ = await app.api.search(token, "tasks", custom_task_view_body(custom, 200, after))
        ids.extend(hit["id"] for hit in page["results"])
        after = (page.get("paging") or {}).get("next", {}).get("after")
        if not after:
            break
    return ids[:MAX_BULK]


@router.post("/tasks/bulk", status_code=202, response_model=JobOut)
async def bulk(body: BulkIn, request: Request, caller: Caller, app: App) -> JobOut:
    action = BulkAction(body.action, body.ownerId, body.propertyName, body.value)
    try:
        action.changes()
    except TaskRuleBroken as broken:
        raise ApiError(400, str(broken)) from None
    if (body.taskIds is None) == (body.matching is None):
        raise ApiError(400, "give either taskIds or matching, not both or neither")
    if body.matching and body.matching.viewId is not None:
        await _custom_view(app, caller, body.matching.viewId)  # 404/400 now, not in the job
    token = bearer(request)
    # Ids given are stored with the job; a selection is resolved by the job itself
    # (10,000 ids through search take longer than a request may wait).
    ids = list(dict.fromkeys(body.taskIds)) if body.taskIds is not None else None
    report = BulkReport(total=len(ids or ()))
    first_report = report.to_json() if ids is not None else {
        **report.to_json(), "outcome": "running", "selecting": True}
    async with app.pool.acquire() as conn:
        job_id = await store.insert_job(conn, caller.account_id, caller.user_id, "tasks_bulk",
                                        {**body.model_dump(exclude={"taskIds"}),
                                         "taskIds": ids}, first_report)
        if ids == []:
            await store.save_job_report(app.pool, job_id, report.outcome, report.to_json(), True)
        row = await store.get_job(conn, caller.account_id, job_id)
    if ids != []:
        task = asyncio.create_task(_resolve_and_run(app, caller, token, job_id, action, ids,
                                                    body.matching))
        app.jobs.add(task)
        task.add_done_callback(app.jobs.discard)
    return _job_out(row)


async def _resolve_and_run(app: Container, caller: Principal, token: str, job_id: str,
                           action: BulkAction, ids: list[str] | None,
                           selection: TaskSelection | None) -> None:
    if ids is None:
        try:
            ids = await _matching_ids(app, caller, token, caller.user_id,
                                      selection)  # type: ignore[arg-type]
        except (UpstreamError, ApiError) as refused:
            report = BulkReport(total=0)
            await store.save_job_report(app.pool, job_id, "failed", {
                **report.to_json(), "outcome": "failed",
                "error": f"selecting the tasks failed: {refused.message}"}, True)
            return
        if not ids:
            report = BulkReport(total=0)
            await store.save_job_report(app.pool, job_id, report.outcome, report.to_json(), True)
            return
    await run_bulk_job(app.pool, app.api, token, job_id, action, ids)


def _job_out(row: Any) -> JobOut:
    return JobOut(id=str(row["id"]), kind=row["kind"], status=row["status"],
                  createdAt=row["created_at"], finishedAt=row["finished_at"],
                  report=row["report"])


@router.get("/jobs/{jobId}", response_model=JobOut)
async def job(jobId: str, caller: Caller, app: App) -> JobOut:
    async with app.pool.acquire() as conn:
        row = await store.get_job(conn, caller.account_id, jobId)
    if row is None or (row["user_id"] != caller.user_id and not caller.super_admin):
        raise ApiError(404, f"Job {jobId} not found")
    return _job_out(row)
