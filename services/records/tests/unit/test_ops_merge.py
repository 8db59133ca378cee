"""Merge, restore window and GDPR delete in RecordOpsHandler on the in-memory
store (R-REC-10, R-REC-11)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from crm_records.handlers.merge import (
    InvalidMerge,
    RecordOpsHandler,
    RestoreWindowPassed,
    within_restore_window,
)
from crm_records.handlers.records import Actor, RecordNotFound, RecordsHandler

NOW = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
API = Actor(account_id=7, user_id=70)


class FakeOpsStore:
    """The conftest's in-memory store plus the merge/erase operations."""

    def __init__(self, store) -> None:
        self.store, self.state = store, store.state

    def __getattr__(self, name: str):
        return getattr(self.store, name)

    async def move_associations(self, account_id: int, object_type: str, from_id: int,
                                to_id: int) -> int:
        self.state.history.append(("moved", from_id, to_id))
        return 0

    async def forward_merged(self, account_id: int, object_type: str, from_id: int,
                             to_id: int) -> None:
        for key, r in list(self.state.records.items()):
            if r.merged_into == from_id:
                self.state.records[key] = replace(r, merged_into=to_id)

    async def find_ids_by_property(self, account_id: int, object_type: str, name: str,
                                   value: str) -> list[int]:
        return [i for (a, t, i), r in self.state.records.items()
                if a == account_id and t == object_type and (
                    str(r.merged_into) == value if name == "@merged_into"
                    else r.properties.get(name) == value and r.merged_into is None)]

    async def erase(self, account_id: int, object_type: str, record_ids: Sequence[int]) -> None:
        for i in record_ids:
            self.state.records.pop((account_id, object_type, i), None)
        self.state.unique = {k: v for k, v in self.state.unique.items() if v not in record_ids}


@pytest.fixture
def ops_uow(uow):
    """The conftest's unit of work, handing out FakeOpsStore."""
    plain = type(uow).__call__

    @asynccontextmanager
    async def with_ops(self) -> AsyncIterator[FakeOpsStore]:
        async with plain(self) as store:
            yield FakeOpsStore(store)

    uow.__class__ = type("FakeOpsUnitOfWork", (type(uow),), {"__call__": with_ops})
    return uow


async def two_contacts(uow) -> tuple[RecordsHandler, int, int]:
    records = RecordsHandler(uow, clock=lambda: NOW)
    a, b = await records.create(API, "contacts", [
        {"email": "a@x.com", "firstname": "Ann"},
        {"email": "b@x.com", "firstname": "Anna", "lastname": "Lee"}])
    return records, a.record_id, b.record_id


async def test_merge_fills_blanks_records_merge_and_forwards_reads(ops_uow):  # R-REC-10
    records, a, b = await two_contacts(ops_uow)
    ops = RecordOpsHandler(ops_uow, clock=lambda: NOW)
    primary = await ops.merge(API, "contacts", a, b)
    assert primary.record_id == a and primary.properties["lastname"] == "Lee"
    assert primary.properties["firstname"] == "Ann"
    assert primary.properties["hs_additional_emails"] == "b@x.com"
    assert ("moved", b, a) in ops_uow.state.history
    assert {(h[1], h[4], h[5]) for h in ops_uow.state.history if len(h) == 7
            and h[0] == a and h[4] == "MERGE"} >= {("lastname", "MERGE", str(b))}
    [event] = ops_uow.events_of("crm.record.merged.v1")
    assert event.event.data["record_id"] == a and event.event.data["merged_record_id"] == b
    read = await records.read(7, "contacts", [b])
    assert read[b].record_id == a  # the secondary id answers the primary
    assert [r.record_id for r in await records.page(7, "contacts", after=0, limit=10)] == [a]
    # The secondary's address is released; the primary keeps its own.
    assert (7, "contacts", "email", "b@x.com") not in ops_uow.state.unique
    assert ops_uow.state.unique[(7, "contacts", "email", "a@x.com")] == a


async def test_merge_refuses_itself_and_absent_or_merged_ids(ops_uow):  # R-REC-10
    _, a, b = await two_contacts(ops_uow)
    ops = RecordOpsHandler(ops_uow, clock=lambda: NOW)
    with pytest.raises(InvalidMerge):
        await ops.merge(API, "contacts", a, a)
    await ops.merge(API, "contacts", a, b)
    with pytest.raises(RecordNotFound):
        await ops.merge(API, "contacts", a, b)  # b is merged away now


def test_the_restore_window_counts_from_the_archiving():  # R-REC-11
    from crm_records.domain.record import archive, new_record
    record = archive(new_record(7, "contacts", 1, {}, NOW), NOW)
    window = timedelta(days=90)
    assert within_restore_window(record, NOW + window, window)
    assert not within_restore_window(record, NOW + window + timedelta(seconds=1), window)


async def test_restore_after_the_window_is_refused(ops_uow):  # R-REC-11
    records, a, _ = await two_contacts(ops_uow)
    await records.archive(API, "contacts", [a])
    late = RecordOpsHandler(ops_uow, clock=lambda: NOW + timedelta(days=91))
    with pytest.raises(RestoreWindowPassed):
        await late.restore(API, "contacts", [a])
    await RecordOpsHandler(ops_uow, clock=lambda: NOW + timedelta(days=89)).restore(
        API, "contacts", [a])
    assert not ops_uow.state.records[(7, "contacts", a)].archived


async def test_gdpr_delete_erases_the_record_and_what_merged_into_it(ops_uow):  # R-REC-11
    _, a, b = await two_contacts(ops_uow)
    ops = RecordOpsHandler(ops_uow, clock=lambda: NOW)
    await ops.merge(API, "contacts", a, b)
    assert await ops.gdpr_delete(API, "contacts", "A@X.com", "email") == a
    assert not ops_uow.state.records and not ops_uow.state.unique
    deleted = {e.event.data["record_id"] for e in ops_uow.events_of("crm.record.deleted.v1")}
    assert deleted == {a, b}
    with pytest.raises(RecordNotFound):
        await ops.gdpr_delete(API, "contacts", str(a))
