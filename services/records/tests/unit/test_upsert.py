"""Batch upsert on the in-memory store (R-REC-1): create or update by a unique
property, results in input order with `new`, one transaction for the batch."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from crm_platform.identity.principal import ObjectScope, Principal
from crm_records.domain.errors import InvalidPropertyValues
from crm_records.handlers.records import Actor, RecordsHandler
from crm_records.handlers.upsert import (
    DuplicateUpsertIds,
    HeldOutOfView,
    UpsertHandler,
    UpsertInput,
)

from .conftest import FakeStore, FakeUnitOfWork

NOW = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
API = Actor(account_id=7, user_id=70)


class FakeUpsertStore(FakeStore):
    async def lock_unique_values(self, account_id: int, object_type: str,
                                 pairs: Sequence[tuple[str, str]]) -> None:
        self.state.history.append(("locked", tuple(pairs)))

    async def unique_holders(self, account_id: int, object_type: str,
                             pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
        return {p: self.state.unique[(account_id, object_type, *p)] for p in pairs
                if (account_id, object_type, *p) in self.state.unique}


class FakeUpsertUnitOfWork(FakeUnitOfWork):
    def __call__(self):  # type: ignore[override]
        parent = super().__call__()

        class Wrapped:
            async def __aenter__(inner):
                return FakeUpsertStore((await parent.__aenter__()).state)

            async def __aexit__(inner, *exc):
                return await parent.__aexit__(*exc)
        return Wrapped()


@pytest.fixture
def upsert_uow() -> FakeUpsertUnitOfWork:
    return FakeUpsertUnitOfWork()


async def test_creates_the_new_and_updates_the_known_in_input_order(upsert_uow):  # R-REC-1
    records = RecordsHandler(upsert_uow, clock=lambda: NOW)
    [known] = await records.create(API, "contacts", [{"email": "known@x.io", "firstname": "K"}])
    handler = UpsertHandler(upsert_uow, clock=lambda: NOW)
    results = await handler.upsert(API, "contacts", [
        UpsertInput("email", "new@x.io", {"firstname": "N"}),
        UpsertInput("email", "KNOWN@x.io", {"lastname": "Known"})])
    assert [r.new for r in results] == [True, False]
    assert results[0].record.properties["email"] == "new@x.io"
    assert results[0].record.properties["lifecyclestage"] == "lead"  # R-LIFE-3: source API
    assert results[1].record.record_id == known.record_id
    assert results[1].record.properties["lastname"] == "Known"
    stored = upsert_uow.state.records[(7, "contacts", known.record_id)]
    assert stored.properties["firstname"] == "K" and stored.properties["lastname"] == "Known"
    assert len(upsert_uow.events_of("crm.record.created.v1")) == 2
    assert len(upsert_uow.events_of("crm.record.updated.v1")) == 1
    # Upserting the same value again finds the record it created.
    again = await handler.upsert(API, "contacts", [UpsertInput("email", "new@x.io", {})])
    assert again[0].new is False and again[0].record.record_id == results[0].record.record_id


async def test_id_property_must_be_a_unique_property(upsert_uow):  # R-REC-1, R-REC-2
    handler = UpsertHandler(upsert_uow, clock=lambda: NOW)
    with pytest.raises(InvalidPropertyValues) as refused:
        await handler.upsert(API, "contacts", [UpsertInput("firstname", "Ann", {})])
    assert [(e.name, e.code) for e in refused.value.errors] == [
        ("firstname", "INVALID_ID_PROPERTY")]
    with pytest.raises(InvalidPropertyValues):
        await handler.upsert(API, "contacts", [UpsertInput("email", "not an address", {})])


async def test_one_value_twice_in_a_batch_is_refused_and_nothing_stored(upsert_uow):  # R-REC-1
    handler = UpsertHandler(upsert_uow, clock=lambda: NOW)
    with pytest.raises(DuplicateUpsertIds):
        await handler.upsert(API, "contacts", [UpsertInput("email", "a@x.io", {}),
                                               UpsertInput("email", "A@x.io", {})])
    assert not upsert_uow.state.records


async def test_a_bad_value_rolls_back_the_whole_batch(upsert_uow):  # R-REC-1, R-REC-2
    handler = UpsertHandler(upsert_uow, clock=lambda: NOW)
    with pytest.raises(InvalidPropertyValues):
        await handler.upsert(API, "contacts", [
            UpsertInput("email", "a@x.io", {"firstname": "A"}),
            UpsertInput("email", "b@x.io", {"nosuch": "x"})])
    assert not upsert_uow.state.records and not upsert_uow.state.events


async def test_a_value_held_out_of_the_callers_view_is_a_conflict_without_its_id(
        upsert_uow):  # R-AUTH-3
    records = RecordsHandler(upsert_uow, clock=lambda: NOW)
    upsert_uow.state.users[7] = {70, 71}
    [theirs] = await records.create(API, "contacts", [{"email": "t@x.io",
                                                       "hubspot_owner_id": "71"}])
    viewer = Principal(7, 70, "t", object_scopes={"*": ObjectScope("owned", "owned")})
    handler = UpsertHandler(upsert_uow, clock=lambda: NOW)
    with pytest.raises(HeldOutOfView) as refused:
        await handler.upsert(Actor(7, 70, viewer=viewer), "contacts",
                             [UpsertInput("email", "t@x.io", {"firstname": "Mine"})])
    assert str(theirs.record_id) not in refused.value.message
    assert "firstname" not in upsert_uow.state.records[(7, "contacts", theirs.record_id)
                                                       ].properties
