"""/crm/v3/schemas: custom object types in the hosted CRM's shapes (R-REC-1).

- `GET /crm/v3/schemas?archived=` -> `{results: [ObjectSchema]}`
- `POST /crm/v3/schemas` (ObjectSchemaEgg) -> 201 ObjectSchema
- `GET /crm/v3/schemas/{objectType}` (objectTypeId "2-n", name, or p_name) -> ObjectSchema
- `PATCH /crm/v3/schemas/{objectType}` (labels, display/searchable/required) -> 200
  ObjectTypeDefinition
- `DELETE /crm/v3/schemas/{objectType}` -> 204 (409 while the type has live records)

Every operation is also served under /crm-object-schemas/v3/schemas, the path
the hosted CRM's official SDK calls.

The new type then works through /crm/v3/objects/{objectTypeId | p_name | name},
/crm/v3/properties, /crm/v4 associations and search (by its name).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field

from crm_platform.identity.principal import Principal
from crm_records.api.custom_types import schemas_handler
from crm_records.api.deps import principal
from crm_records.api.properties import (
    PropertyCreate,
    PropertyModel,
    property_json,
)
from crm_records.domain.properties import PropertyDefinition, PropertyOption
from crm_records.domain.schemas import ObjectSchema
from crm_records.handlers.custom_objects import (
    CUSTOM_GROUP,
    SchemasHandler,
    SchemaWithProperties,
    StoredSchema,
)

operations = APIRouter(tags=["schemas"])
Caller = Annotated[Principal, Depends(principal)]
Schemas = Annotated[SchemasHandler, Depends(schemas_handler)]


class Labels(BaseModel):
    singular: str
    plural: str


class PropertyIn(PropertyCreate):
    """The hosted ObjectTypePropertyCreate: a PropertyCreate whose group may be left out."""

    # Wider than the base's `str` on purpose (see the docstring), which mypy flags.
    groupName: str | None = None  # type: ignore[assignment]


class SchemaIn(BaseModel):
    """The hosted ObjectSchemaEgg."""

    model_config = ConfigDict(extra="ignore")
    name: str
    labels: Labels
    primaryDisplayProperty: str | None = None
    secondaryDisplayProperties: list[str] = Field(default_factory=list)
    searchableProperties: list[str] = Field(default_factory=list)
    requiredProperties: list[str] = Field(default_factory=list)
    properties: list[PropertyIn] = Field(default_factory=list)
    associatedObjects: list[str] = Field(default_factory=list)
    description: str = ""


class SchemaPatch(BaseModel):
    """The hosted ObjectTypeDefinitionPatch."""

    model_config = ConfigDict(extra="ignore")
    labels: Labels | None = None
    primaryDisplayProperty: str | None = None
    secondaryDisplayProperties: list[str] | None = None
    searchableProperties: list[str] | None = None
    requiredProperties: list[str] | None = None
    description: str | None = None


class TypeDefinitionOut(BaseModel):
    """The hosted ObjectTypeDefinition (what PATCH answers)."""

    id: str
    objectTypeId: str
    name: str
    fullyQualifiedName: str
    labels: Labels
    primaryDisplayProperty: str
    secondaryDisplayProperties: list[str]
    searchableProperties: list[str]
    requiredProperties: list[str]
    description: str | None = None
    createdAt: datetime
    updatedAt: datetime
    archived: bool


class SchemaOut(TypeDefinitionOut):
    """The hosted ObjectSchema: the definition with its properties and associations."""

    properties: list[PropertyModel]
    # Association types of a custom pair are made at its first association (v4 API).
    associations: list[dict[str, Any]]


class SchemaCollection(BaseModel):
    results: list[SchemaOut]


def _definition(body: PropertyIn) -> PropertyDefinition:
    return PropertyDefinition(
        name=body.name, label=body.label, type=body.type, field_type=body.fieldType,
        group_name=body.groupName or CUSTOM_GROUP, description=body.description,
        options=tuple(PropertyOption(o.label, o.value, o.displayOrder, o.hidden, o.description)
                      for o in body.options),
        display_order=body.displayOrder, has_unique_value=body.hasUniqueValue,
        hidden=body.hidden, form_field=body.formField,
        user_type=(body.referencedObjectType or "").upper() == "OWNER")


def _definition_out(stored: StoredSchema) -> dict[str, Any]:
    s = stored.schema
    return dict(id=s.object_type_id.removeprefix("2-"), objectTypeId=s.object_type_id,
                name=s.name, fullyQualifiedName=s.fully_qualified_name,
                labels=Labels(singular=s.singular_label, plural=s.plural_label),
                primaryDisplayProperty=s.primary_display_property,
                secondaryDisplayProperties=list(s.secondary_display_properties),
                searchableProperties=list(s.searchable_properties),
                requiredProperties=list(s.required_properties),
                description=s.description or None, createdAt=stored.created_at,
                updatedAt=stored.updated_at, archived=stored.archived)


def _schema_out(found: SchemaWithProperties) -> SchemaOut:
    return SchemaOut(**_definition_out(found.stored),
                     properties=[property_json(p) for p in found.properties
                                 if not p.definition.archived],
                     associations=[])


@operations.get("", response_model=SchemaCollection, response_model_exclude_none=True)
async def list_schemas(caller: Caller, schemas: Schemas,
                       archived: bool = False) -> SchemaCollection:
    return SchemaCollection(results=[_schema_out(s) for s in await schemas.list(
        caller.account_id, archived=archived)])


@operations.post("", status_code=201, response_model=SchemaOut, response_model_exclude_none=True)
async def create_schema(body: SchemaIn, caller: Caller, schemas: Schemas) -> SchemaOut:
    own = [_definition(p) for p in body.properties]
    schema = ObjectSchema(
        object_type_id="", name=body.name, singular_label=body.labels.singular,
        plural_label=body.labels.plural,
        primary_display_property=body.primaryDisplayProperty or (
            own[0].name if own else "hs_object_id"),
        secondary_display_properties=tuple(body.secondaryDisplayProperties),
        searchable_properties=tuple(body.searchableProperties),
        required_properties=tuple(body.requiredProperties),
        associated_objects=tuple(body.associatedObjects), description=body.description)
    return _schema_out(await schemas.create(caller.account_id, caller.user_id, schema, own))


@operations.get("/{objectType}", response_model=SchemaOut, response_model_exclude_none=True)
async def read_schema(objectType: str, caller: Caller, schemas: Schemas) -> SchemaOut:
    return _schema_out(await schemas.get(caller.account_id, objectType))


@operations.patch("/{objectType}", response_model=TypeDefinitionOut,
              response_model_exclude_none=True)
async def update_schema(objectType: str, body: SchemaPatch, caller: Caller,
                        schemas: Schemas) -> TypeDefinitionOut:
    changes: dict[str, Any] = {}
    if body.labels is not None:
        changes.update(singular_label=body.labels.singular, plural_label=body.labels.plural)
    for field, name in (("primaryDisplayProperty", "primary_display_property"),
                        ("secondaryDisplayProperties", "secondary_display_properties"),
                        ("searchableProperties", "searchable_properties"),
                        ("requiredProperties", "required_properties"),
                        ("description", "description")):
        value = getattr(body, field)
        if value is not None:
            changes[name] = tuple(value) if isinstance(value, list) else value
    stored = await schemas.update(caller.account_id, objectType, changes)
    return TypeDefinitionOut(**_definition_out(stored))


@operations.delete("/{objectType}", status_code=204, response_class=Response)
async def archive_schema(objectType: str, caller: Caller, schemas: Schemas) -> Response:
    await schemas.archive(caller.account_id, objectType)
    return Response(status_code=204)


# The hosted CRM serves these operations at both paths: its docs use /crm/v3/schemas,
# its official SDK calls /crm-object-schemas/v3/schemas.
router = APIRouter()
router.include_router(operations, prefix="/crm/v3/schemas")
router.include_router(operations, prefix="/crm-object-schemas/v3/schemas")
