"""Record preview (R-CSW-5): the record's properties and its property history in
one call, and editing a property, all through the records API as the caller."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from crm_platform.identity.principal import Principal
from crm_workspace.api.common import storable_text
from crm_workspace.api.deps import area, bearer, container
from crm_workspace.bootstrap import Container
from crm_workspace.domain.access import Area

Text = Annotated[str, AfterValidator(storable_text)]
router = APIRouter(prefix="/workspace/v1/preview", tags=["preview"])
Caller = Annotated[Principal, Depends(area(Area.PREVIEW))]
App = Annotated[Container, Depends(container)]


class Preview(BaseModel):
    objectType: str
    record: dict[str, Any]
    history: list[dict[str, Any]]


class EditIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    properties: dict[Text, Text | None] = Field(min_length=1, max_length=50)


@router.get("/{objectType}/{recordId}", response_model=Preview)
async def preview(objectType: str, recordId: str, request: Request, caller: Caller,
                  app: App) -> Preview:
    token = bearer(request)
    record = await app.api.read(token, objectType, recordId)
    history = await app.api.history(token, objectType, recordId)
    return Preview(objectType=objectType, record=record, history=history.get("results", []))


@router.patch("/{objectType}/{recordId}", response_model=dict[str, Any])
async def edit(objectType: str, recordId: str, body: EditIn, request: Request, caller: Caller,
               app: App) -> dict[str, Any]:
    return await app.api.update(bearer(request), objectType, recordId, body.properties)
