"""/crm/v3/objects/{objectType}: the hosted CRM's object endpoints.

Status codes are the hosted ones (create 201, archive 204, batch create 201,
batch with errors 207): the official SDK returns None on a 200 where it
expects a 201.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from crm_platform.identity.principal import Principal
from crm_platform.problem import ApiError
from crm_records.api import associations as associations_api
from crm_records.api import presenter
from crm_records.api.deps import container, principal
from crm_records.api.schemas import (
    BatchCreateInput,
    BatchIdsInput,
    BatchReadInput,
    BatchResponse,
    BatchUpdateInput,
    CollectionResponse,
    ObjectInput,
    PropertyChangeOut,
    RecordHistory,
    SimplePublicObject,
)
from crm_records.bootstrap import Container
from crm_records.handlers.records import Actor

router = APIRouter(prefix="/crm/v3/objects", tags=["objects"])
MAX_BATCH = 100
Caller = Annotated[Principal, Depends(principal)]
App = Annotated[Container, Depends(container)]
CommaList = Annotated[list[str] | None, Query()]


def _actor(caller: Principal) -> Actor:
    return Actor(account_id=caller.account_id, user_id=caller.user_id, source="API",
                 viewer=caller)


def _batch_size(count: int) -> None:
    if count > MAX_BATCH:
        raise ApiError(400, f"Batch of {count} inputs is over the limit of {MAX_BATCH}.",
                       [{"message": f"inputs: at most {MAX_BATCH} items", "in": "inputs"}])


@router.post("/{objectType}", status_code=201, response_model=SimplePublicObject,
             response_model_exclude_none=True)
async def create(objectType: str, body: ObjectInput, caller: Caller, app: App,
                 response: Response) -> SimplePublicObject:
    object_type = app.object_type(objectType)
    if body.associations:  # the record and its associations in one transaction (R-REC-6/7)
        record = await associations_api.create_with_associations(
            app, _actor(caller), object_type, presenter.values_in(body.properties),
            body.associations, response)
    else:
        [record] = await app.records.create(_actor(caller), object_type,
                                            [presenter.values_in(body.properties)])
    response.headers[presenter.CONSISTENCY_HEADER] = presenter.consistency_token([record])
    return presenter.simple_object(record)


@router.get("/{objectType}", response_model=CollectionResponse, response_model_exclude_none=True)
async def list_page(objectType: str, caller: Caller, app: App,
                    limit: Annotated[int, Query(ge=1, le=100)] = 10,
                    after: Annotated[str | None, Query()] = None,
                    properties: CommaList = None, archived: bool = False) -> CollectionResponse:
    object_type = app.object_type(objectType)
    start = presenter.parse_after(after)
    records = await app.records.page(caller.account_id, object_type, after=start,
                                     limit=limit + 1, archived=archived, viewer=caller)
    page, more = records[:limit], len(records) > limit
    chosen = presenter.split_names(properties)
    return CollectionResponse(
        results=[presenter.simple_object(r, chosen) for r in page],
        paging=presenter.paging(page[-1].record_id) if more else None)


@router.get("/{objectType}/{objectId}", response_model=SimplePublicObject,
            response_model_exclude_none=True)
async def read(objectType: str, objectId: str, caller: Caller, app: App, response: Response,
               properties: CommaList = None, propertiesWithHistory: CommaList = None,
               associations: CommaList = None, archived: bool = False) -> SimplePublicObject:
    object_type = app.object_type(objectType)
    record_id = presenter.parse_id(objectId)
    found = await app.records.read(caller.account_id, object_type, [record_id],
                                   archived=archived, viewer=caller)
    if record_id not in found:
        raise presenter.object_not_found(objectId)
    record = found[record_id]
    record_id = record.record_id  # a merged-away id answers the primary (R-REC-10)
    history_names = presenter.split_names(propertiesWithHistory)
    history = (await app.history(caller.account_id, object_type, [record_id], history_names)
               if history_names else {})
    result = presenter.simple_object(record, presenter.split_names(properties),
                                     history.get(record_id), history_names)
    if associations:
        result.associations = await associations_api.associations_of(
            app, caller.account_id, object_type, record_id, presenter.split_names(associations),
            viewer=caller)  # R-AUTH-3
    await associations_api.set_rollups_header(app, response, caller.account_id, object_type,
                                              record_id)  # R-ROLL-2
    return result


@router.get("/{objectType}/{objectId}/history", response_model=RecordHistory,
            response_model_exclude_none=True)
async def record_history(objectType: str, objectId: str, caller: Caller, app: App,
                         limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> RecordHistory:
    """Every property change of the record, newest first, with source and user (R-REC-4)."""
    object_type = app.object_type(objectType)
    record_id = presenter.parse_id(objectId)
    if record_id not in await app.records.read(caller.account_id, object_type, [record_id],
                                               viewer=caller):
        raise presenter.object_not_found(objectId)
    rows = await app.record_history(caller.account_id, object_type, record_id, limit)
    return RecordHistory(results=[PropertyChangeOut(
        propertyName=r["property"], value=r["value"] or "", timestamp=r["changed_at"],
        sourceType=r["source_type"], sourceId=r["source_id"], updatedByUserId=r["user_id"])
        for r in rows])


@router.patch("/{objectType}/{objectId}", response_model=SimplePublicObject,
              response_model_exclude_none=True)
async def update(objectType: str, objectId: str, body: ObjectInput, caller: Caller, app: App,
                 response: Response) -> SimplePublicObject:
    object_type = app.object_type(objectType)
    record_id = presenter.parse_id(objectId)
    [record] = await app.records.update(_actor(caller), object_type,
                                        [(record_id, presenter.values_in(body.properties))])
    response.headers[presenter.CONSISTENCY_HEADER] = presenter.consistency_token([record])
    return presenter.simple_object(record)


@router.delete("/{objectType}/{objectId}", status_code=204, response_class=Response)
async def archive(objectType: str, objectId: str, caller: Caller, app: App) -> Response:
    object_type = app.object_type(objectType)
    record_id = presenter.parse_id(objectId)
    # An id the caller cannot see (absent, another account's, outside their scope) is 404.
    if not await app.records.read(caller.account_id, object_type, [record_id],
                                  viewer=caller) and not await app.records.read(
            caller.account_id, object_type, [record_id], archived=True, viewer=caller):
        raise presenter.object_not_found(objectId)
    await app.records.archive(_actor(caller), object_type, [record_id])
    return Response(status_code=204)


@router.post("/{objectType}/batch/create", status_code=201, response_model=BatchResponse,
             response_model_exclude_none=True)
async def batch_create(objectType: str, body: BatchCreateInput, caller: Caller, app: App,
                       response: Response) -> BatchResponse:
    object_type = app.object_type(objectType)
    _batch_size(len(body.inputs))
    started = datetime.now(UTC)
    records = await app.records.create(_actor(caller), object_type,
                                       [presenter.values_in(i.properties) for i in body.inputs])
    response.headers[presenter.CONSISTENCY_HEADER] = presenter.consistency_token(records)
    return BatchResponse(results=[presenter.simple_object(r) for r in records],
                         startedAt=started, completedAt=datetime.now(UTC))


@router.post("/{objectType}/batch/read", response_model=BatchResponse,
             response_model_exclude_none=True)
async def batch_read(objectType: str, body: BatchReadInput, caller: Caller, app: App,
                     response: Response, archived: bool = False) -> BatchResponse:
    object_type = app.object_type(objectType)
    _batch_size(len(body.inputs))
    started = datetime.now(UTC)
    ids = [presenter.parse_id(i.id) for i in body.inputs]
    found = await app.records.read(caller.account_id, object_type, ids, archived=archived,
                                   viewer=caller)
    history = (await app.history(caller.account_id, object_type, list(found),
                                 body.propertiesWithHistory)
               if body.propertiesWithHistory else {})
    results = [presenter.simple_object(found[i], body.properties or None, history.get(i),
                                       body.propertiesWithHistory) for i in dict.fromkeys(ids)
               if i in found]
    missing = [str(i) for i in dict.fromkeys(ids) if i not in found]
    if missing:
        response.status_code = 207
        return BatchResponse(status="COMPLETE", results=results, startedAt=started,
                             completedAt=datetime.now(UTC), numErrors=1,
                             errors=[presenter.missing_ids_error(missing)])
    return BatchResponse(results=results, startedAt=started, completedAt=datetime.now(UTC))


@router.post("/{objectType}/batch/update", response_model=BatchResponse,
             response_model_exclude_none=True)
async def batch_update(objectType: str, body: BatchUpdateInput, caller: Caller, app: App,
                       response: Response) -> BatchResponse:
    object_type = app.object_type(objectType)
    _batch_size(len(body.inputs))
    # One id may come twice: a clear then an earlier lifecycle stage (R-LIFE-2).
    ids = [presenter.parse_id(i.id) for i in body.inputs]
    started = datetime.now(UTC)
    records = await app.records.update(
        _actor(caller), object_type,
        [(i, presenter.values_in(u.properties)) for i, u in zip(ids, body.inputs, strict=True)])
    response.headers[presenter.CONSISTENCY_HEADER] = presenter.consistency_token(records)
    return BatchResponse(results=[presenter.simple_object(r) for r in records],
                         startedAt=started, completedAt=datetime.now(UTC))


@router.post("/{objectType}/batch/archive", status_code=204, response_class=Response)
async def batch_archive(objectType: str, body: BatchIdsInput, caller: Caller,
                        app: App) -> Response:
    object_type = app.object_type(objectType)
    _batch_size(len(body.inputs))
    await app.records.archive(_actor(caller), object_type,
                              [presenter.parse_id(i.id) for i in body.inputs])
    return Response(status_code=204)
