"""RecordsHandler and PropertiesHandler on the in-memory store: validation
against the account's catalogue, unique values, read-only and user-type
properties, and the events each write publishes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crm_records.domain.errors import (
    InvalidPropertyDefinition,
    InvalidPropertyValues,
    UniqueValueConflict,
)
from crm_records.domain.properties import PropertyDefinition, PropertyOption
from crm_records.handlers.properties import PropertiesHandler, PropertyConflict
from crm_records.handlers.records import Actor, RecordsHandler

NOW = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
API = Actor(account_id=7, user_id=70)


def handlers(uow):
    return RecordsHandler(uow, clock=lambda: NOW), PropertiesHandler(uow, clock=lambda: NOW)


async def test_first_use_seeds_the_standard_catalogue_once_and_publishes_it(uow):  # R-REC-2
    records, _ = handlers(uow)
    await records.create(API, "contacts", [{"firstname": "Ann"}])
    await records.create(API, "contacts", [{"firstname": "Bob"}])
    defined = uow.events_of("crm.property.defined.v1")
    names = [e.event.data["name"] for e in defined]
    assert "email" in names and len(names) == len(set(names))
    email = next(e for e in defined if e.event.data["name"] == "email")
    assert email.key == "7:contacts:email" and email.event.data["has_unique_value"] is True


async def test_every_bad_property_is_named_and_nothing_is_stored(uow):  # R-REC-2
    records, _ = handlers(uow)
    with pytest.raises(InvalidPropertyValues) as refused:
        await records.create(API, "deals", [{"dealname": "ok", "amount": "x"},
                                            {"closedate": "never", "colour": "red"}])
    assert {(e.name, e.code) for e in refused.value.errors} == {
        ("amount", "INVALID_NUMBER"), ("closedate", "INVALID_DATETIME"),
        ("colour", "PROPERTY_DOESNT_EXIST")}
    assert not uow.state.records


async def test_read_only_values_only_from_the_platform(uow):  # R-REC-2
    records, _ = handlers(uow)
    with pytest.raises(InvalidPropertyValues):
        await records.create(API, "contacts", [{"notes_last_updated": "2024-01-01"}])
    automation = Actor(account_id=7, user_id=None, source="AUTOMATION", trusted=True)
    [record] = await records.create(automation, "contacts",
                                    [{"notes_last_updated": "2024-01-01"}])
    assert record.properties["notes_last_updated"] == "2024-01-01T00:00:00.000Z"


async def test_unique_values_refuse_a_second_holder_until_released(uow):  # R-REC-2
    records, _ = handlers(uow)
    [ann] = await records.create(API, "contacts", [{"email": "Ann@Example.com"}])
    assert ann.properties["email"] == "ann@example.com"
    with pytest.raises(UniqueValueConflict) as conflict:
        await records.create(API, "contacts", [{"email": "ann@example.com"}])
    assert conflict.value.holder_id == ann.record_id
    with pytest.raises(UniqueValueConflict):
        await records.create(API, "contacts", [{"email": "b@x.io"}, {"email": "b@x.io"}])
    await records.update(API, "contacts", [(ann.record_id, {"email": "ann@new.io"})])
    [again] = await records.create(API, "contacts", [{"email": "ann@example.com"}])
    await records.archive(API, "contacts", [again.record_id])
    await records.create(API, "contacts", [{"email": "ann@example.com"}])
    with pytest.raises(UniqueValueConflict):  # restoring would hold the address twice
        await records.restore(API, "contacts", [again.record_id])


async def test_user_properties_take_only_the_accounts_users(uow):  # R-REC-3
    uow.state.users[7] = {70, 71}
    records, _ = handlers(uow)
    [owned] = await records.create(API, "deals", [{"hubspot_owner_id": 71}])
    assert owned.properties["hubspot_owner_id"] == "71"
    with pytest.raises(InvalidPropertyValues) as refused:
        await records.create(API, "deals", [{"hubspot_owner_id": "99"}])
    assert refused.value.errors[0].name == "hubspot_owner_id"


async def test_custom_properties_validate_and_publish(uow):  # R-REC-2
    records, properties = handlers(uow)
    tier = PropertyDefinition("tier", "Tier", "enumeration", "select", "dealinformation",
                              options=(PropertyOption("Gold", "gold"),))
    await properties.create(7, 70, "deals", tier)
    with pytest.raises(PropertyConflict):
        await properties.create(7, 70, "deals", tier)
    with pytest.raises(InvalidPropertyValues):
        await records.create(API, "deals", [{"tier": "silver"}])
    await properties.update(7, 70, "deals", "tier", {"options": (
        PropertyOption("Gold", "gold"), PropertyOption("Silver", "silver"))})
    await records.create(API, "deals", [{"tier": "silver"}])
    with pytest.raises(InvalidPropertyDefinition):
        await properties.update(7, 70, "deals", "dealname", {"type": "number"})
    with pytest.raises(InvalidPropertyDefinition):
        await properties.archive(7, 70, "deals", "dealname")
    await properties.archive(7, 70, "deals", "tier")
    with pytest.raises(InvalidPropertyValues):
        await records.create(API, "deals", [{"tier": "gold"}])
    kinds = [e.event.type for e in uow.state.events if e.key == "7:deals:tier"]
    assert kinds == ["crm.property.defined.v1", "crm.property.changed.v1",
                     "crm.property.archived.v1"]


async def test_updates_publish_old_and_new_values_and_history(uow):  # R-REC-4
    records, _ = handlers(uow)
    [deal] = await records.create(API, "deals", [{"dealname": "A"}])
    await records.update(API, "deals", [(deal.record_id, {"dealname": "B"})])
    [updated] = uow.events_of("crm.record.updated.v1")
    change = next(c for c in updated.event.data["changes"] if c["name"] == "dealname")
    assert (change["old_value"], change["new_value"], change["source"]) == ("A", "B", "API")
    assert ("dealname", "B", "API", 70) in {(h[1], h[2], h[4], h[6]) for h in uow.state.history}
