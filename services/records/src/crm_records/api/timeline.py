"""GET /crm/v3/objects/{objectType}/{objectId}/timeline: a record's engagements,
newest first, with cursor paging (R-REC-7); a contact's includes every email
logged to its current addresses (R-REC-8); email HTML sanitised (R-REC-9)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from crm_platform.identity.principal import Principal
from crm_platform.problem import ApiError
from crm_records.api import presenter
from crm_records.api.deps import container, principal
from crm_records.bootstrap import Container
from crm_records.domain.associations import object_type_id
from crm_records.handlers.engagements import decode_cursor

router = APIRouter(prefix="/crm/v3/objects", tags=["timeline"])
Caller = Annotated[Principal, Depends(principal)]
App = Annotated[Container, Depends(container)]


@router.get("/{objectType}/{objectId}/timeline")
async def timeline(objectType: str, objectId: str, caller: Caller, app: App,
                   limit: Annotated[int, Query(ge=1, le=100)] = 20,
                   after: str | None = None) -> dict[str, Any]:
    object_type = app.object_type(objectType)
    record_id = presenter.parse_id(objectId)
    try:
        decode_cursor(after)
    except ValueError:
        raise ApiError(400, f"Invalid paging cursor 'after': {after!r}") from None
    page = await app.timeline.timeline(caller.account_id, object_type, record_id,
                                       after=after, limit=limit, viewer=caller)
    body: dict[str, Any] = {"results": [{
        "id": str(item.id), "objectType": item.object_type,
        "objectTypeId": object_type_id(item.object_type),
        "timestamp": item.properties.get("hs_timestamp") or item.properties.get("createdate"),
        "properties": item.properties, "createdAt": item.record.created_at,
        "updatedAt": item.record.updated_at} for item in page.items]}
    if page.next_after:
        body["paging"] = {"next": {"after": page.next_after}}
    return body
