"""/crm/v3/properties/{objectType}: property definitions and their groups, in
the hosted CRM's shapes (create 201, archive 204), so its SDK works unchanged."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field

from crm_platform.identity.principal import Principal
from crm_records.api.deps import container, principal
from crm_records.bootstrap import Container
from crm_records.domain.properties import PropertyDefinition, PropertyGroup, PropertyOption
from crm_records.handlers.properties import PropertyNotFound, StoredProperty

router = APIRouter(prefix="/crm/v3/properties", tags=["properties"])
Caller = Annotated[Principal, Depends(principal)]
App = Annotated[Container, Depends(container)]


class OptionModel(BaseModel):
    model_config = ConfigDict(extra="ignore")
    label: str
    value: str
    displayOrder: int = 0
    hidden: bool = False
    description: str = ""


class ModificationMetadata(BaseModel):
    archivable: bool
    readOnlyDefinition: bool
    readOnlyValue: bool


class PropertyModel(BaseModel):
    name: str
    label: str
    type: str
    fieldType: str
    description: str
    groupName: str
    options: list[OptionModel]
    displayOrder: int
    calculated: bool
    externalOptions: bool
    hasUniqueValue: bool
    hidden: bool
    hubspotDefined: bool
    formField: bool
    modificationMetadata: ModificationMetadata
    referencedObjectType: str | None = None
    createdAt: datetime
    updatedAt: datetime
    archived: bool
    archivedAt: datetime | None = None


class PropertyCollection(BaseModel):
    results: list[PropertyModel]


class PropertyCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str
    label: str
    type: str
    fieldType: str
    groupName: str
    description: str = ""
    options: list[OptionModel] = Field(default_factory=list)
    displayOrder: int = -1
    hasUniqueValue: bool = False
    hidden: bool = False
    formField: bool = False
    # "OWNER": a user-type property, whose values are the account's users (R-REC-3).
    referencedObjectType: str | None = None


class PropertyUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")
    label: str | None = None
    type: str | None = None
    fieldType: str | None = None
    groupName: str | None = None
    description: str | None = None
    options: list[OptionModel] | None = None
    displayOrder: int | None = None
    hidden: bool | None = None
    formField: bool | None = None


class GroupModel(BaseModel):
    name: str
    label: str
    displayOrder: int
    archived: bool = False


class GroupCollection(BaseModel):
    results: list[GroupModel]


class GroupCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str
    label: str
    displayOrder: int = -1


class GroupUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")
    label: str | None = None
    displayOrder: int | None = None


_FIELDS_IN = {"label": "label", "type": "type", "fieldType": "field_type",
              "groupName": "group_name", "description": "description",
              "displayOrder": "display_order", "hidden": "hidden", "formField": "form_field"}


def _options_in(options: list[OptionModel]) -> tuple[PropertyOption, ...]:
    return tuple(PropertyOption(o.label, o.value, o.displayOrder, o.hidden, o.description)
                 for o in options)


def property_json(row: StoredProperty) -> PropertyModel:
    d = row.definition
    return PropertyModel(
        name=d.name, label=d.label, type=d.type, fieldType=d.field_type,
        description=d.description, groupName=d.group_name,
        options=[OptionModel(label=o.label, value=o.value, displayOrder=o.display_order,
                             hidden=o.hidden, description=o.description) for o in d.options],
        displayOrder=d.display_order, calculated=d.calculated,
        externalOptions=d.external_options, hasUniqueValue=d.has_unique_value,
        hidden=d.hidden, hubspotDefined=d.hubspot_defined, formField=d.form_field,
        modificationMetadata=ModificationMetadata(
            archivable=not d.hubspot_defined, readOnlyDefinition=d.hubspot_defined,
            readOnlyValue=d.read_only),
        referencedObjectType="OWNER" if d.user_type else None,
        createdAt=row.created_at, updatedAt=row.updated_at, archived=d.archived,
        archivedAt=row.archived_at)


def _group_json(group: PropertyGroup) -> GroupModel:
    return GroupModel(name=group.name, label=group.label, displayOrder=group.display_order)


# Groups first: "groups" must not be taken for a property name.

@router.get("/{objectType}/groups", response_model=GroupCollection)
async def list_groups(objectType: str, caller: Caller, app: App) -> GroupCollection:
    groups = await app.properties.groups(caller.account_id, app.object_type(objectType))
    return GroupCollection(results=[_group_json(g) for g in groups])


@router.post("/{objectType}/groups", status_code=201, response_model=GroupModel)
async def create_group(objectType: str, body: GroupCreate, caller: Caller,
                       app: App) -> GroupModel:
    group = await app.properties.save_group(
        caller.account_id, app.object_type(objectType),
        PropertyGroup(body.name, body.label, body.displayOrder), create=True)
    return _group_json(group)


@router.get("/{objectType}/groups/{groupName}", response_model=GroupModel)
async def read_group(objectType: str, groupName: str, caller: Caller, app: App) -> GroupModel:
    groups = await app.properties.groups(caller.account_id, app.object_type(objectType))
    for group in groups:
        if group.name == groupName:
            return _group_json(group)
    raise PropertyNotFound(objectType, groupName, "Property group")


@router.patch("/{objectType}/groups/{groupName}", response_model=GroupModel)
async def update_group(objectType: str, groupName: str, body: GroupUpdate, caller: Caller,
                       app: App) -> GroupModel:
    object_type = app.object_type(objectType)
    current = await read_group(objectType, groupName, caller, app)
    group = PropertyGroup(groupName, body.label or current.label,
                          current.displayOrder if body.displayOrder is None
                          else body.displayOrder)
    return _group_json(await app.properties.save_group(caller.account_id, object_type, group,
                                                       create=False))


@router.delete("/{objectType}/groups/{groupName}", status_code=204, response_class=Response)
async def archive_group(objectType: str, groupName: str, caller: Caller, app: App) -> Response:
    await app.properties.archive_group(caller.account_id, app.object_type(objectType), groupName)
    return Response(status_code=204)


@router.get("/{objectType}", response_model=PropertyCollection,
            response_model_exclude_none=True)
async def list_properties(objectType: str, caller: Caller, app: App,
                          archived: bool = False) -> PropertyCollection:
    rows = await app.properties.list(caller.account_id, app.object_type(objectType),
                                     archived=archived)
    return PropertyCollection(results=[property_json(r) for r in rows])


@router.post("/{objectType}", status_code=201, response_model=PropertyModel,
             response_model_exclude_none=True)
async def create_property(objectType: str, body: PropertyCreate, caller: Caller,
                          app: App) -> PropertyModel:
    user_type = (body.referencedObjectType or "").upper() == "OWNER"
    definition = PropertyDefinition(
        name=body.name, label=body.label, type=body.type, field_type=body.fieldType,
        group_name=body.groupName, description=body.description,
        options=_options_in(body.options), display_order=body.displayOrder,
        has_unique_value=body.hasUniqueValue, hidden=body.hidden, form_field=body.formField,
        user_type=user_type)
    row = await app.properties.create(caller.account_id, caller.user_id,
                                      app.object_type(objectType), definition)
    return property_json(row)


@router.get("/{objectType}/{propertyName}", response_model=PropertyModel,
            response_model_exclude_none=True)
async def read_property(objectType: str, propertyName: str, caller: Caller, app: App,
                        archived: bool = False) -> PropertyModel:
    return property_json(await app.properties.get(
        caller.account_id, app.object_type(objectType), propertyName, archived=archived))


@router.patch("/{objectType}/{propertyName}", response_model=PropertyModel,
              response_model_exclude_none=True)
async def update_property(objectType: str, propertyName: str, body: PropertyUpdate,
                          caller: Caller, app: App) -> PropertyModel:
    sent = body.model_dump(exclude_unset=True)
    changes: dict[str, Any] = {_FIELDS_IN[k]: v for k, v in sent.items() if k in _FIELDS_IN}
    if body.options is not None:
        changes["options"] = _options_in(body.options)
    row = await app.properties.update(caller.account_id, caller.user_id,
                                      app.object_type(objectType), propertyName, changes)
    return property_json(row)


@router.delete("/{objectType}/{propertyName}", status_code=204, response_class=Response)
async def archive_property(objectType: str, propertyName: str, caller: Caller,
                           app: App) -> Response:
    await app.properties.archive(caller.account_id, caller.user_id,
                                 app.object_type(objectType), propertyName)
    return Response(status_code=204)
