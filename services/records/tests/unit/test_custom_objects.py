"""Custom object schemas (R-REC-1): validity rules, the names a type answers to,
and the handler seeding the type's catalogue, on the in-memory store."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crm_records.domain.object_types import resolve_object_type
from crm_records.domain.properties import PropertyDefinition
from crm_records.domain.schemas import InvalidSchema, ObjectSchema, check_schema
from crm_records.handlers.custom_objects import (
    SchemaConflict,
    SchemasHandler,
    StoredSchema,
    find_schema,
)
from crm_records.handlers.records import Actor, RecordsHandler

from .conftest import FakeStore, FakeUnitOfWork

NOW = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
CARS = ObjectSchema("2-1001", "cars", "Car", "Cars", "model", searchable_properties=("model",))
MODEL = PropertyDefinition("model", "Model", "string", "text", "")
VIN = PropertyDefinition("vin", "VIN", "string", "text", "", has_unique_value=True)


def test_a_schema_names_only_properties_it_has_and_no_standard_type():  # R-REC-1
    check_schema(CARS, ["model", "hs_object_id"])
    with pytest.raises(InvalidSchema) as refused:
        check_schema(ObjectSchema("2-1", "contacts", "C", "", "colour",
                                  required_properties=("size",)), ["model"])
    reasons = " ".join(refused.value.reasons)
    assert "taken by a standard" in reasons and "labels" in reasons
    assert "colour" in reasons and "size" in reasons
    with pytest.raises(InvalidSchema):
        check_schema(ObjectSchema("2-1", "1cars", "Car", "Cars", "model"), ["model"])


def test_the_type_answers_to_its_id_name_and_qualified_names():  # R-REC-1
    custom = [CARS.object_type()]
    for name in ("2-1001", "cars", "CARS", "p_cars", "p4242_cars"):
        assert resolve_object_type(name, custom).name == "cars"
    stored = [StoredSchema(CARS, NOW, NOW)]
    for name in ("2-1001", "cars", "p_cars", "p4242_cars"):
        assert find_schema(stored, name) is stored[0]
    assert find_schema(stored, "p_boats") is None and find_schema(stored, "2-1002") is None


class FakeSchemaStore(FakeStore):
    async def allocate_object_type_id(self) -> str:
        return f"2-{(await self.allocate_ids(1))[0]}"

    async def schemas(self, account_id: int) -> list[StoredSchema]:
        return list(self.state.schemas.get(account_id, {}).values())

    async def save_schema(self, account_id: int, stored: StoredSchema) -> None:
        self.state.schemas.setdefault(account_id, {})[stored.schema.object_type_id] = stored

    async def live_record_count(self, account_id: int, object_type: str) -> int:
        return sum(1 for (a, t, _), r in self.state.records.items()
                   if a == account_id and t == object_type and not r.archived)


class FakeSchemaUnitOfWork(FakeUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.state.schemas = {}  # type: ignore[attr-defined]

    def __call__(self):  # type: ignore[override]
        parent = super().__call__()

        class Wrapped:
            async def __aenter__(inner):
                return FakeSchemaStore((await parent.__aenter__()).state)

            async def __aexit__(inner, *exc):
                return await parent.__aexit__(*exc)
        return Wrapped()


async def test_creating_a_schema_seeds_base_and_own_properties_and_publishes_them():  # R-REC-1
    uow = FakeSchemaUnitOfWork()
    handler = SchemasHandler(uow, clock=lambda: NOW)
    made = await handler.create(7, 70, CARS, [MODEL, VIN])
    names = {p.definition.name for p in made.properties}
    assert {"model", "vin", "hs_object_id", "hs_pipeline", "hubspot_owner_id"} <= names
    defined = {e.event.data["name"] for e in uow.events_of("crm.property.defined.v1")
               if e.key.startswith("7:cars:")}
    assert {"model", "vin", "hs_object_id"} <= defined
    with pytest.raises(SchemaConflict):
        await handler.create(7, 70, CARS, [MODEL])
    # Its records validate against its own catalogue.
    [car] = await RecordsHandler(uow, clock=lambda: NOW).create(
        Actor(7, 70), "cars", [{"model": "T", "vin": "V1"}])
    assert car.properties["vin"] == "V1"
    assert [t.name for t in await handler.custom_types(7)] == ["cars"]
    assert await handler.custom_types(8) == []


async def test_a_type_with_live_records_is_not_archived():  # R-REC-1
    uow = FakeSchemaUnitOfWork()
    handler = SchemasHandler(uow, clock=lambda: NOW)
    await handler.create(7, 70, CARS, [MODEL])
    records = RecordsHandler(uow, clock=lambda: NOW)
    [car] = await records.create(Actor(7, 70), "cars", [{"model": "T"}])
    with pytest.raises(SchemaConflict):
        await handler.archive(7, "p_cars")
    await records.archive(Actor(7, 70), "cars", [car.record_id])
    await handler.archive(7, "p_cars")
    assert await handler.custom_types(7) == []
