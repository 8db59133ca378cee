"""Record preview (R-CSW-5): the record's properties, property history, activities
(the records timeline) and associations in one call; editing a property and
merging through the records API as the caller; unfollowing, kept per user."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from crm_platform.identity.principal import Principal
from crm_platform.problem import ApiError
from crm_workspace.adapters import store
from crm_workspace.adapters.crm_api import UpstreamError
from crm_workspace.api.common import storable_text
from crm_workspace.api.deps import area, bearer, container
from crm_workspace.bootstrap import Container
from crm_workspace.domain.access import Area
from crm_workspace.domain.preview import associated_types

Text = Annotated[str, AfterValidator(storable_text)]
RecordId = Annotated[str, Field(pattern=r"^[0-9]{1,18}$")]
router = APIRouter(prefix="/workspace/v1/preview", tags=["preview"])
Caller = Annotated[Principal, Depends(area(Area.PREVIEW))]
App = Annotated[Container, Depends(container)]


class Preview(BaseModel):
    objectType: str
    record: dict[str, Any]
    history: list[dict[str, Any]]
    activities: dict[str, Any]
    associations: dict[str, list[dict[str, Any]]]
    # Associated types the records service refused (e.g. a pair it does not
    # define), with its reason, so a missing list is never silent.
    unavailableAssociations: dict[str, str] = {}
    following: bool


class EditIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    properties: dict[Text, Text | None] = Field(min_length=1, max_length=50)


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    objectIdToMerge: RecordId


@router.get("/{objectType}/{recordId}", response_model=Preview)
async def preview(objectType: str, recordId: str, request: Request, caller: Caller,
                  app: App, associations: Annotated[str | None, Query(max_length=500)] = None,
                  activitiesAfter: Annotated[str | None, Query(max_length=500)] = None
                  ) -> Preview:
    try:
        to_types = associated_types(associations)
    except ValueError as bad:
        raise ApiError(400, str(bad), [{"message": str(bad), "in": "associations"}]) from None
    token = bearer(request)
    record = await app.api.read(token, objectType, recordId)  # 404 and 403 come from here
    history, activities, *linked = await asyncio.gather(
        app.api.history(token, objectType, recordId),
        app.api.timeline(token, objectType, recordId, after=activitiesAfter),
        *(app.api.associations(token, objectType, recordId, t) for t in to_types),
        return_exceptions=True)
    if isinstance(history, BaseException):
        raise history
    if isinstance(activities, BaseException):
        raise activities
    found: dict[str, list[dict[str, Any]]] = {}
    refused: dict[str, str] = {}
    for to_type, answer in zip(to_types, linked, strict=True):
        if isinstance(answer, UpstreamError) and answer.status < 500:
            refused[to_type] = answer.message
        elif isinstance(answer, BaseException):
            raise answer
        else:
            found[to_type] = answer.get("results", [])
    async with app.pool.acquire() as conn:
        unfollowed = await store.is_unfollowed(conn, caller.account_id, caller.user_id,
                                               objectType, int(record["id"]))
    return Preview(objectType=objectType, record=record, history=history.get("results", []),
                   activities=activities, associations=found,
                   unavailableAssociations=refused, following=not unfollowed)


@router.patch("/{objectType}/{recordId}", response_model=dict[str, Any])
async def edit(objectType: str, recordId: str, body: EditIn, request: Request, caller: Caller,
               app: App) -> dict[str, Any]:
    return await app.api.update(bearer(request), objectType, recordId, body.properties)


@router.post("/{objectType}/{recordId}/merge", response_model=dict[str, Any])
async def merge(objectType: str, recordId: str, body: MergeIn, request: Request,
                caller: Caller, app: App) -> dict[str, Any]:
    """Merges objectIdToMerge into this record (the records service's rules apply)."""
    return await app.api.merge(bearer(request), objectType, recordId, body.objectIdToMerge)


@router.put("/{objectType}/{recordId}/unfollow", status_code=204, response_class=Response)
async def unfollow(objectType: str, recordId: str, request: Request, caller: Caller,
                   app: App) -> Response:
    await _follow(objectType, recordId, request, caller, app, following=False)
    return Response(status_code=204)


@router.delete("/{objectType}/{recordId}/unfollow", status_code=204, response_class=Response)
async def follow_again(objectType: str, recordId: str, request: Request, caller: Caller,
                       app: App) -> Response:
    await _follow(objectType, recordId, request, caller, app, following=True)
    return Response(status_code=204)


async def _follow(object_type: str, record_id: str, request: Request, caller: Principal,
                  app: Container, following: bool) -> None:
    # Only a record the caller can read (another account's answers 404 from records).
    record = await app.api.read(bearer(request), object_type, record_id)
    async with app.pool.acquire() as conn:
        await store.set_unfollowed(conn, caller.account_id, caller.user_id, object_type,
                                   int(record["id"]), unfollowed=not following)
