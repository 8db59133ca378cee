"""Custom object schemas (R-REC-1): /crm/v3/schemas use cases, and the account's
custom types that every path naming an object type resolves against.

Creating a schema stores it and seeds its property catalogue (the custom base
properties, then the schema's own), each definition published as
`crm.property.defined.v1` so search learns the type like any other; its
records are then ordinary records under the schema's name, written, read,
associated and published by the usual handlers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from crm_contracts.properties import v1
from crm_records.domain.errors import DomainError
from crm_records.domain.object_types import ObjectType
from crm_records.domain.properties import (
    PropertyDefinition,
    validate_definition,
    validate_property_name,
)
from crm_records.domain.schemas import (
    InvalidSchema,
    ObjectSchema,
    check_own_properties,
    check_schema,
    normalise_name,
)
from crm_records.domain.standard_properties import custom_object_base_properties
from crm_records.handlers.properties import (
    CatalogStore,
    StoredProperty,
    property_event,
    stored_properties,
)

CUSTOM_GROUP = "custom"
# The caller's account's custom types, set per request by the API before a route
# resolves the object types its path names (bootstrap.Container.object_type).
REQUEST_CUSTOM_TYPES: ContextVar[tuple[ObjectType, ...]] = ContextVar(
    "request_custom_types", default=())


class SchemaNotFound(DomainError):
    category = "OBJECT_NOT_FOUND"

    def __init__(self, reference: str) -> None:
        super().__init__(f"Object schema {reference!r} does not exist")
        self.reference = reference


class SchemaConflict(DomainError):
    category = "CONFLICT"


@dataclass(frozen=True)
class StoredSchema:
    schema: ObjectSchema
    created_at: datetime
    updated_at: datetime
    archived: bool = False


@dataclass(frozen=True)
class SchemaWithProperties:
    stored: StoredSchema
    properties: list[StoredProperty]


class SchemaStore(CatalogStore, Protocol):
    async def allocate_object_type_id(self) -> str: ...
    async def schemas(self, account_id: int) -> list[StoredSchema]: ...
    async def save_schema(self, account_id: int, stored: StoredSchema) -> None: ...
    async def live_record_count(self, account_id: int, object_type: str) -> int: ...


SchemaUnitOfWork = Callable[[], AbstractAsyncContextManager[SchemaStore]]
_UPDATABLE = {"singular_label", "plural_label", "primary_display_property",
              "secondary_display_properties", "searchable_properties", "required_properties",
              "description"}


def find_schema(schemas: Sequence[StoredSchema], reference: str) -> StoredSchema | None:
    """The schema a path names: objectTypeId, name or fully qualified name (p_cars,
    p<portal>_cars), as domain.object_types resolves them."""
    wanted = normalise_name(reference)
    for stored in schemas:
        schema = stored.schema
        if wanted in (schema.object_type_id, schema.name, schema.fully_qualified_name):
            return stored
        if wanted.startswith("p") and "_" in wanted:
            prefix, _, rest = wanted.partition("_")
            if prefix[1:].isdigit() and rest == schema.name:
                return stored
    return None


class SchemasHandler:
    def __init__(self, unit_of_work: SchemaUnitOfWork,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.unit_of_work = unit_of_work
        self.clock = clock

    async def custom_types(self, account_id: int) -> list[ObjectType]:
        """The account's live custom types, for domain.object_types.resolve_object_type."""
        async with self.unit_of_work() as store:
            return [s.schema.object_type() for s in await store.schemas(account_id)
                    if not s.archived]

    async def create(self, account_id: int, user_id: int | None, schema: ObjectSchema,
                     own: Sequence[PropertyDefinition]) -> SchemaWithProperties:
        now = self.clock()
        base = custom_object_base_properties()
        own = [replace(d, group_name=d.group_name or CUSTOM_GROUP) for d in own]
        schema = replace(schema, name=normalise_name(schema.name))
        check_own_properties(schema.name, own, base)
        for definition in own:
            validate_property_name(definition.name)
            validate_definition(definition)
        check_schema(schema, [*base, *(d.name for d in own)])
        async with self.unit_of_work() as store:
            if any(s.schema.name == schema.name for s in await store.schemas(account_id)):
                raise SchemaConflict(f"An object type named {schema.name!r} already exists.")
            schema = replace(schema, object_type_id=await store.allocate_object_type_id())
            stored = StoredSchema(schema, now, now)
            await store.save_schema(account_id, stored)
            await stored_properties(store, account_id, schema.name, now)  # the base, seeded
            for definition in own:
                await store.save_property(account_id, schema.name,
                                          StoredProperty(definition, now, now), user_id)
            await store.publish([property_event(v1.PropertyDefined, account_id, schema.name, d)
                                 for d in own])
            properties = await stored_properties(store, account_id, schema.name, now)
        return SchemaWithProperties(stored, properties)

    async def list(self, account_id: int, *, archived: bool = False
                   ) -> list[SchemaWithProperties]:
        async with self.unit_of_work() as store:
            found = [s for s in await store.schemas(account_id) if s.archived == archived]
            return [SchemaWithProperties(s, await store.property_rows(account_id,
                                                                      s.schema.name))
                    for s in found]

    async def get(self, account_id: int, reference: str) -> SchemaWithProperties:
        async with self.unit_of_work() as store:
            stored = await self._live(store, account_id, reference)
            return SchemaWithProperties(stored, await store.property_rows(
                account_id, stored.schema.name))

    async def update(self, account_id: int, reference: str,
                     changes: Mapping[str, Any]) -> StoredSchema:
        refused = sorted(set(changes) - _UPDATABLE)
        if refused:
            raise InvalidSchema(reference, [f"{', '.join(refused)} cannot be changed"])
        now = self.clock()
        async with self.unit_of_work() as store:
            current = await self._live(store, account_id, reference)
            schema = replace(current.schema, **changes)
            names = [r.definition.name for r in await store.property_rows(
                account_id, schema.name) if not r.definition.archived]
            check_schema(schema, names)
            stored = replace(current, schema=schema, updated_at=now)
            await store.save_schema(account_id, stored)
        return stored

    async def archive(self, account_id: int, reference: str) -> None:
        """As hosted: only a type without live records may be archived. Its name stays
        taken, so archived records never meet a new type of the same name."""
        now = self.clock()
        async with self.unit_of_work() as store:
            current = await self._live(store, account_id, reference)
            if await store.live_record_count(account_id, current.schema.name):
                raise SchemaConflict(
                    f"Object type {current.schema.name!r} still has records; archive them"
                    " first.")
            await store.save_schema(account_id, replace(current, archived=True,
                                                        updated_at=now))

    @staticmethod
    async def _live(store: SchemaStore, account_id: int, reference: str) -> StoredSchema:
        found = find_schema([s for s in await store.schemas(account_id) if not s.archived],
                            reference)
        if found is None:
            raise SchemaNotFound(reference)
        return found

