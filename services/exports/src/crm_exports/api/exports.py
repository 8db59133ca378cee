"""/crm/v3/exports: the hosted CRM's Exports API, and our own additions.

Hosted shape (its official SDK's exports client works unchanged):
  POST /crm/v3/exports/export/async                      -> 202 {id, links}
  GET  /crm/v3/exports/export/async/tasks/{id}/status    -> status, 5-minute link when COMPLETE
  GET  /crm/v3/exports/export/{id}                       -> the export
Ours:
  GET  /crm/v3/exports/mine                              -> my exports, newest first
  GET  /crm/v3/exports/export/{id}/progress              -> rows written of rows expected
  POST /crm/v3/exports/export/{id}/cancel
  POST /crm/v3/exports/views/{viewId}/export/async       -> 202: a workspace view, as defined
  GET  /crm/v3/exports/download/{token}                  -> the file (410 expired, 403 tampered)

Routes parse, call the store or the search client, and map errors; exports
of other users are answered 404 (a super admin sees every export of the account).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import StreamingResponse

from crm_contracts.exports import v1
from crm_exports.adapters.jobs import Job
from crm_exports.adapters.records_client import RecordsRefused
from crm_exports.adapters.search_client import SearchRefused, UserToken
from crm_exports.adapters.workspace_client import WorkspaceRefused
from crm_exports.bootstrap import Container
from crm_exports.domain.associations import ExportFormat
from crm_exports.domain.jobs import (
    XLS_MAX_ROWS,
    CannotCancel,
    JobStatus,
    TooManyRowsForXls,
    check_cancelable,
    progress_percent,
)
from crm_exports.domain.links import (
    STATUS_LINK_TTL,
    LinkExpired,
    LinkTampered,
    verify_download_link,
)
from crm_exports.domain.paging import SEARCH_RESULT_CAP
from crm_exports.domain.requests import ExportRequestInvalid, ExportSpec, parse_export_request
from crm_exports.domain.views import ViewNotExportable, view_export_request
from crm_exports.handlers.runner import export_event
from crm_platform.identity.access import can_export
from crm_platform.identity.fastapi import principal_dependency, requires
from crm_platform.identity.principal import Principal
from crm_platform.problem import ApiError

router = APIRouter(prefix="/crm/v3/exports", tags=["exports"])

principal = principal_dependency(
    get_secret=lambda request: request.app.state.container.token_secret,
    get_directory=lambda request: request.app.state.container.directory,
    get_limiter=lambda request: request.app.state.container.limiter,
)
Exporter = Annotated[Principal, Depends(requires(principal, can_export))]
Caller = Annotated[Principal, Depends(principal)]

MEDIA_TYPES = {
    ".csv": "text/csv; charset=utf-8",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".xls": "application/vnd.ms-excel",
    ".zip": "application/zip",
}


def container(request: Request) -> Container:
    return request.app.state.container


App = Annotated[Container, Depends(container)]


def _status_url(request: Request, export_id: int) -> str:
    return str(request.url_for("export_status", taskId=str(export_id)))


async def _visible_job(app: Container, caller: Principal, export_id: str) -> Job:
    """The caller's export (any of the account's for a super admin), else 404 (R-AUTH-1)."""
    job = await app.jobs.get(caller.account_id, int(export_id)) if export_id.isdigit() else None
    if job is None or (job.user_id != caller.user_id and not caller.super_admin):
        raise ApiError(404, f"Export {export_id} not found")
    return job


def _export_body(job: Job) -> dict[str, Any]:
    spec = job.spec
    return {
        "id": str(job.export_id), "exportName": spec.export_name,
        "exportType": spec.export_type, "listId": spec.list_id and str(spec.list_id),
        "viewId": spec.view_id, "associatedObjectTypes": spec.association_types,
        "format": spec.format.value, "language": spec.language.upper(),
        "objectType": spec.object_type, "objectProperties": spec.object_properties,
        "columns": spec.columns.value, "exportState": job.status.value,
        "reason": job.reason, "rowsWritten": job.rows_written,
        "rowsExpected": job.rows_expected,
        "progressPercent": progress_percent(job.rows_written, job.rows_expected),
        "fileName": job.file_name, "fileSize": job.file_size,
        "createdAt": job.requested_at, "startedAt": job.started_at,
        "completedAt": job.completed_at, "updatedAt": job.completed_at or job.requested_at,
    }


def _invalid(invalid: ExportRequestInvalid) -> ApiError:
    return ApiError(400, str(invalid), [{"message": str(invalid), "in": invalid.field_name,
                                         "code": "INVALID_INPUT"}])


def _too_many_for_xls() -> ApiError:
    return ApiError(400, str(TooManyRowsForXls()),
                    [{"message": str(TooManyRowsForXls()), "in": "format"}])


async def _expected_rows(app: Container, spec: ExportSpec, token: UserToken) -> int | None:
    """Checks the export with the services that will feed it, as the user, so a bad
    filter, list or association type is a 400 now rather than a failed job later;
    answers the rows expected (None when search only knows "10,000 or more")."""
    checking = "associatedObjectType"
    try:
        for to_type in spec.association_types:
            await app.records.check_association_type(spec.object_type, to_type, token)
        checking = "listId"
        if spec.list_id is not None:
            size = await app.records.list_size(spec.list_id, token)
            if spec.format is ExportFormat.XLS and size > XLS_MAX_ROWS:
                raise _too_many_for_xls()
            return size
        probe = await app.search.first_page(spec.object_type, spec.search, ["hs_object_id"],
                                            token, limit=0)
        if spec.format is ExportFormat.XLS and (
                probe.total > XLS_MAX_ROWS or (probe.total >= SEARCH_RESULT_CAP and
                                               await app.search.more_than(
                                                   spec.object_type, spec.search, token,
                                                   XLS_MAX_ROWS))):
            raise _too_many_for_xls()
        return probe.total if probe.total < SEARCH_RESULT_CAP else None
    except RecordsRefused as refused:
        if refused.status in (400, 404):
            raise ApiError(400, f"The records service refused the export's {checking}: "
                                f"{refused}", [{"message": str(refused), "in": checking}]
                           ) from None
        raise ApiError(503, f"The records service could not check the export "
                            f"({refused.status}): {refused}",
                       headers={"Retry-After": "5"}) from None
    except SearchRefused as refused:
        if refused.status == 400:
            raise ApiError(400, f"The view's search was refused: {refused}") from None
        raise ApiError(503, f"The search service could not check the export ({refused.status}): "
                            f"{refused}", headers={"Retry-After": "5"}) from None
    except httpx.HTTPError as error:
        raise ApiError(503, f"The search or records service is unreachable: "
                            f"{type(error).__name__}", headers={"Retry-After": "5"}) from None


async def submit(request: Request, app: Container, caller: Principal,
                 spec: ExportSpec) -> dict[str, Any]:
    """Store the checked export and its ExportRequested event; the 202 body."""
    token = UserToken(app.token_secret, caller.account_id, caller.user_id)
    expected = await _expected_rows(app, spec, token)

    def requested(job: Job):  # type: ignore[no-untyped-def]
        return export_event(job, v1.ExportRequested(
            export_id=str(job.export_id), account_id=job.account_id, user_id=job.user_id,
            export_name=spec.export_name, format=spec.format.value,
            object_type=spec.object_type, requested_at=job.requested_at))

    job = await app.jobs.create(caller.account_id, caller.user_id, spec, expected, requested)
    return {"id": str(job.export_id), "links": {"status": _status_url(request, job.export_id)}}


@router.post("/export/async", status_code=202)
async def start_export(request: Request, app: App, caller: Exporter,
                       body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    """R-EXP-1: store the request and its event; the job runs when the event is consumed."""
    try:
        spec = parse_export_request(body)
    except ExportRequestInvalid as invalid:
        raise _invalid(invalid) from None
    return await submit(request, app, caller, spec)


@router.post("/views/{viewId}/export/async", status_code=202)
async def export_workspace_view(viewId: str, request: Request, app: App, caller: Exporter,
                                body: Annotated[dict[str, Any] | None, Body()] = None
                                ) -> dict[str, Any]:
    """R-EXP-1 R-EXP-3: a Customers, Services or Revenue view exported with its filters,
    sorts and column order, fetched from the workspace as the user. The body takes
    the hosted request's format, exportName (the view's name by default), language,
    columns, associatedObjectType and includeAllCompanyDomains."""
    token = UserToken(app.token_secret, caller.account_id, caller.user_id)
    try:
        view = await app.workspace.view(viewId, token)
        if view is None:
            raise ApiError(404, f"View {viewId} not found")
        csm = (await app.workspace.customers_csm_property(token)
               if view.get("standard") else "hubspot_owner_id")
        spec = parse_export_request(view_export_request(view, body or {}, caller.user_id, csm))
    except WorkspaceRefused as refused:
        status = refused.status if refused.status in (401, 403, 404) else 503
        raise ApiError(status, f"The workspace refused the view: {refused}") from None
    except httpx.HTTPError as error:
        raise ApiError(503, f"The workspace service is unreachable: {type(error).__name__}",
                       headers={"Retry-After": "5"}) from None
    except ViewNotExportable as refused:
        raise ApiError(400, str(refused)) from None
    except ExportRequestInvalid as invalid:
        raise _invalid(invalid) from None
    return await submit(request, app, caller, replace(spec, view_id=str(view["id"])))


@router.get("/export/async/tasks/{taskId}/status", name="export_status")
async def export_status(taskId: str, app: App, caller: Caller) -> dict[str, Any]:
    job = await _visible_job(app, caller, taskId)
    answer: dict[str, Any] = {
        "status": job.status.value, "requestedAt": job.requested_at,
        "startedAt": job.started_at or job.requested_at,
        "completedAt": job.completed_at or job.requested_at, "links": {},
        "rowsWritten": job.rows_written, "rowsExpected": job.rows_expected,
    }
    if job.status is JobStatus.COMPLETE:
        answer["result"], _ = app.links.url(job.export_id, STATUS_LINK_TTL, datetime.now(UTC))
    if job.status is JobStatus.FAILED:
        answer["errors"] = [{"message": job.reason or "failed", "category": "EXPORT_FAILED"}]
        answer["numErrors"] = 1
    return answer


@router.get("/export/{exportId}")
async def get_export(exportId: str, app: App, caller: Caller) -> dict[str, Any]:
    return _export_body(await _visible_job(app, caller, exportId))


@router.get("/export/{exportId}/progress")
async def export_progress(exportId: str, app: App, caller: Caller) -> dict[str, Any]:
    job = await _visible_job(app, caller, exportId)
    return {"id": str(job.export_id), "status": job.status.value,
            "rowsWritten": job.rows_written, "rowsExpected": job.rows_expected,
            "progressPercent": progress_percent(job.rows_written, job.rows_expected)}


@router.post("/export/{exportId}/cancel")
async def cancel_export(exportId: str, app: App, caller: Caller) -> dict[str, Any]:
    job = await _visible_job(app, caller, exportId)
    try:
        check_cancelable(job.status)
    except CannotCancel as refused:
        raise ApiError(409, str(refused)) from None
    await app.jobs.cancel(caller.account_id, job.export_id)
    return _export_body(await _visible_job(app, caller, exportId))


@router.get("/mine")
async def my_exports(app: App, caller: Caller,
                     limit: Annotated[int, Query(ge=1, le=100)] = 20) -> dict[str, Any]:
    jobs = await app.jobs.list_mine(caller.account_id, caller.user_id, limit)
    return {"results": [_export_body(job) for job in jobs]}


@router.get("/download/{token}")
async def download(token: str, app: App) -> StreamingResponse:
    """The link is the credential (R-EXP-5): no bearer token; never a file when expired."""
    try:
        export_id = verify_download_link(app.links.secret, token, datetime.now(UTC))
    except LinkExpired as expired:
        raise ApiError(410, f"This download link has expired ({expired}); "
                            "request the export's status for a new one.") from None
    except LinkTampered:
        raise ApiError(403, "This download link is not valid.") from None
    job = await app.jobs.get_any(int(export_id))
    if job is None or job.status is not JobStatus.COMPLETE or not job.file_key \
            or not job.file_name or not await asyncio.to_thread(app.storage.exists, job.file_key):
        raise ApiError(404, "The export's file is no longer available.")
    suffix = "." + job.file_name.rsplit(".", 1)[-1].lower()
    return StreamingResponse(
        app.storage.stream(job.file_key),
        media_type=MEDIA_TYPES.get(suffix, "application/octet-stream"),
        headers={"Content-Disposition": f'attachment; filename="{job.file_name}"',
                 "Content-Length": str(job.file_size)})
