"""GET/PUT /workspace/v1/settings (R-CSW-2)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from crm_platform.identity.principal import Principal
from crm_platform.problem import ApiError
from crm_workspace.adapters import store
from crm_workspace.api.common import storable_text
from crm_workspace.api.deps import area, bearer, container
from crm_workspace.bootstrap import Container
from crm_workspace.domain.access import Area
from crm_workspace.domain.settings import WorkspaceSettings
from crm_workspace.handlers.settings import SettingsInvalid, change_settings

Text = Annotated[str, AfterValidator(storable_text)]
router = APIRouter(prefix="/workspace/v1/settings", tags=["settings"])
NAME = r"^[A-Za-z0-9_-]+$"  # object type and property names as the records API spells them


class ObjectSettingsModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    objectType: Text = Field(min_length=1, max_length=100, pattern=NAME)
    csmProperty: Text = Field("hubspot_owner_id", min_length=1, max_length=100, pattern=NAME)
    renewalDateProperty: Text | None = Field(None, max_length=100, pattern=NAME)
    pipelines: list[Text] = Field(default_factory=list, max_length=50)
    defaultPipeline: Text | None = Field(None, max_length=100)
    defaultLayout: str = "board"


class CustomersSettingsModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    objectType: Text = Field(min_length=1, max_length=100, pattern=NAME)
    csmProperty: Text = Field("hubspot_owner_id", min_length=1, max_length=100, pattern=NAME)
    renewalDateProperty: Text | None = Field(None, max_length=100, pattern=NAME)


class RevenueSettingsModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    objects: list[ObjectSettingsModel] = Field(min_length=1, max_length=5)
    defaultObjectType: Text = Field(min_length=1, max_length=100, pattern=NAME)


class SettingsModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customers: CustomersSettingsModel
    services: ObjectSettingsModel
    revenue: RevenueSettingsModel


class SettingsOut(SettingsModel):
    version: int


@router.get("", response_model=SettingsOut)
async def read_settings(caller: Annotated[Principal, Depends(area(Area.SUMMARY))],
                        app: Annotated[Container, Depends(container)]) -> SettingsOut:
    async with app.pool.acquire() as conn:
        settings, version = await store.load_settings(conn, caller.account_id)
    return SettingsOut(**settings.to_json(), version=version)


@router.put("", response_model=SettingsOut)
async def replace_settings(body: SettingsModel, request: Request,
                           caller: Annotated[Principal, Depends(area(Area.SETTINGS))],
                           app: Annotated[Container, Depends(container)]) -> SettingsOut:
    settings = WorkspaceSettings.from_json(body.model_dump())
    try:
        version = await change_settings(app, caller, bearer(request), settings, app.clock())
    except SettingsInvalid as invalid:
        raise ApiError(400, f"Invalid settings: {invalid}", invalid.problems) from None
    return SettingsOut(**settings.to_json(), version=version)
