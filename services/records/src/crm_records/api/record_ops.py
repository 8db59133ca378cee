"""Merge, restore and GDPR delete on /crm/v3/objects (R-REC-10, R-REC-11).

- `POST /crm/v3/objects/{objectType}/merge` `{primaryObjectId, objectIdToMerge}` -> 200,
  the primary (hosted shape); the merged id keeps answering as the primary.
- `POST /crm/v3/objects/{objectType}/{objectId}/restore` -> 200, the record, while within
  the restore window (`RECORDS_RESTORE_WINDOW_DAYS`, 90 by default); after it 410.
- `POST /crm/v3/objects/{objectType}/gdpr-delete` `{objectId, idProperty?}` -> 204: the
  record, its history, unique values and associations are gone; RecordDeleted tells
  search, exports and every read model to forget it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from pydantic import BaseModel

from crm_platform.identity.principal import Principal
from crm_platform.problem import ApiError
from crm_records.adapters.record_ops_pg import PgRecordOpsUnitOfWork
from crm_records.api import presenter
from crm_records.api.deps import container, principal
from crm_records.api.schemas import SimplePublicObject
from crm_records.bootstrap import Container
from crm_records.handlers.merge import RecordOpsHandler, RestoreWindowPassed
from crm_records.handlers.records import Actor

router = APIRouter(prefix="/crm/v3/objects", tags=["objects"])
Caller = Annotated[Principal, Depends(principal)]
App = Annotated[Container, Depends(container)]


class MergeInput(BaseModel):
    primaryObjectId: str
    objectIdToMerge: str


class GdprDeleteInput(BaseModel):
    objectId: str
    idProperty: str | None = None


def record_ops(request: Request) -> RecordOpsHandler:
    """The handler on the running container's pool (made on first use after start-up)."""
    state, pool = request.app.state, request.app.state.container.pool
    if getattr(state, "record_ops_pool", None) is not pool:
        state.record_ops = RecordOpsHandler(
            PgRecordOpsUnitOfWork(pool), restore_window=timedelta(days=state.restore_window_days))
        state.record_ops_pool = pool
    return state.record_ops


Ops = Annotated[RecordOpsHandler, Depends(record_ops)]


def _actor(caller: Principal) -> Actor:
    return Actor(account_id=caller.account_id, user_id=caller.user_id, source="API",
                 viewer=caller)


@router.post("/{objectType}/merge", response_model=SimplePublicObject,
             response_model_exclude_none=True)
async def merge(objectType: str, body: MergeInput, caller: Caller, app: App,
                ops: Ops) -> SimplePublicObject:
    object_type = app.object_type(objectType)
    primary = await ops.merge(_actor(caller), object_type,
                              presenter.parse_id(body.primaryObjectId),
                              presenter.parse_id(body.objectIdToMerge))
    return presenter.simple_object(primary)


@router.post("/{objectType}/gdpr-delete", status_code=204, response_class=Response)
async def gdpr_delete(objectType: str, body: GdprDeleteInput, caller: Caller, app: App,
                      ops: Ops) -> Response:
    object_type = app.object_type(objectType)
    await ops.gdpr_delete(_actor(caller), object_type, body.objectId, body.idProperty)
    return Response(status_code=204)


@router.post("/{objectType}/{objectId}/restore", response_model=SimplePublicObject,
             response_model_exclude_none=True)
async def restore(objectType: str, objectId: str, caller: Caller, app: App,
                  ops: Ops) -> SimplePublicObject:
    object_type = app.object_type(objectType)
    record_id = presenter.parse_id(objectId)
    try:
        await ops.restore(_actor(caller), object_type, [record_id])
    except RestoreWindowPassed as passed:
        raise ApiError(410, passed.message, category="GONE") from None
    found = await app.records.read(caller.account_id, object_type, [record_id], viewer=caller)
    return presenter.simple_object(found[record_id])


def install(app: FastAPI, restore_window_days: int) -> None:
    app.state.restore_window_days = restore_window_days
    app.include_router(router)
