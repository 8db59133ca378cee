"""POST /crm/v3/objects/{objectType}/batch/upsert (R-REC-1), the hosted shape:
`{inputs: [{idProperty, id, properties}]}` -> 200 with one result per input,
each with `new` (true when it was created). Up to 100 inputs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from crm_platform.identity.principal import Principal
from crm_platform.problem import ApiError
from crm_records.adapters.upsert_pg import UpsertUnitOfWork
from crm_records.api import presenter
from crm_records.api.deps import container, principal
from crm_records.api.objects import MAX_BATCH
from crm_records.api.schemas import PropertyValues, SimplePublicObject
from crm_records.bootstrap import Container
from crm_records.handlers.records import Actor
from crm_records.handlers.upsert import UpsertHandler, UpsertInput

router = APIRouter(prefix="/crm/v3/objects", tags=["objects"])
Caller = Annotated[Principal, Depends(principal)]
App = Annotated[Container, Depends(container)]


class UpsertItem(BaseModel):
    model_config = ConfigDict(extra="ignore")
    idProperty: str
    id: str
    properties: PropertyValues = Field(default_factory=dict)


class BatchUpsertInput(BaseModel):
    inputs: list[UpsertItem]


class UpsertedObject(SimplePublicObject):
    new: bool


class BatchUpsertResponse(BaseModel):
    status: str = "COMPLETE"
    results: list[UpsertedObject]
    startedAt: datetime
    completedAt: datetime


def upsert_handler(request: Request) -> UpsertHandler:
    """The handler on the running container's pool (made on first use after start-up)."""
    state, pool = request.app.state, request.app.state.container.pool
    if getattr(state, "upsert_pool", None) is not pool:
        state.upsert = UpsertHandler(UpsertUnitOfWork(pool))
        state.upsert_pool = pool
    return state.upsert


@router.post("/{objectType}/batch/upsert", response_model=BatchUpsertResponse,
             response_model_exclude_none=True)
async def batch_upsert(objectType: str, body: BatchUpsertInput, caller: Caller, app: App,
                       response: Response,
                       handler: Annotated[UpsertHandler, Depends(upsert_handler)]
                       ) -> BatchUpsertResponse:
    object_type = app.object_type(objectType)
    if len(body.inputs) > MAX_BATCH:
        raise ApiError(400, f"Batch of {len(body.inputs)} inputs is over the limit of {MAX_BATCH}.",
                       [{"message": f"inputs: at most {MAX_BATCH} items", "in": "inputs"}])
    started = datetime.now(UTC)
    actor = Actor(account_id=caller.account_id, user_id=caller.user_id, source="API",
                  viewer=caller)
    results = await handler.upsert(actor, object_type, [
        UpsertInput(i.idProperty, i.id, presenter.values_in(i.properties)) for i in body.inputs])
    records = [r.record for r in results]
    response.headers[presenter.CONSISTENCY_HEADER] = presenter.consistency_token(records)
    return BatchUpsertResponse(
        results=[UpsertedObject(**presenter.simple_object(r.record).model_dump(), new=r.new)
                 for r in results],
        startedAt=started, completedAt=datetime.now(UTC))
