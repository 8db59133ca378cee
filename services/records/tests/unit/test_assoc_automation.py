"""Roll-ups and deal automation as the consumers run them, on the in-memory
store (no I/O): R-ROLL-1, R-ROLL-2, R-LIFE-4, R-LIFE-5, R-LIFE-6."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from crm_contracts.envelope import CloudEvent
from crm_records.handlers import automation
from crm_records.handlers.automation import AutomationSession
from crm_records.handlers.records import Actor, RecordsHandler

NOW = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
API = Actor(account_id=7, user_id=70)


class FakeAutomationStore:
    def __init__(self, uow) -> None:
        self.uow = uow
        self.links: set[tuple[str, int, str, int]] = set()
        self.progress: dict[tuple[str, int, str], datetime] = {}

    def link(self, a_type: str, a_id: int, b_type: str, b_id: int) -> None:
        self.links |= {(a_type, a_id, b_type, b_id), (b_type, b_id, a_type, a_id)}

    async def get_records(self, account_id, object_type, record_ids):
        records = self.uow.state.records
        return {i: records[(account_id, object_type, i)] for i in record_ids
                if (account_id, object_type, i) in records}

    async def associated_ids(self, account_id, from_type, from_id,
                             to_types: Sequence[str] | None = None):
        return sorted((t, i) for f, fi, t, i in self.links if (f, fi) == (from_type, from_id)
                      and (to_types is None or t in to_types))

    async def associated_ids_of(self, account_id, from_type, from_ids):
        found = {i: await self.associated_ids(account_id, from_type, i) for i in from_ids}
        return {i: links for i, links in found.items() if links}

    async def mark_rollups(self, account_id, object_type, record_ids, rollups, at):
        for record_id in record_ids:
            for name in rollups:
                self.progress[(object_type, record_id, name)] = at


@pytest.fixture
def world(uow):
    store = FakeAutomationStore(uow)
    records = RecordsHandler(uow, clock=lambda: NOW)
    return store, records, AutomationSession(store, records)


def record_event(record, event_type="crm.record.created.v1", changes=()):
    data = {"account_id": 7, "object_type": record.object_type, "record_id": record.record_id,
            "version": record.version, "properties": record.properties,
            "changes": [{"name": n} for n in changes]}
    return CloudEvent(type=event_type, source="t", subject="s", account_id=7, data=data)


def added_event(from_type, from_id, to_type, to_id):
    data = {"account_id": 7, "from_object_type": from_type, "from_record_id": from_id,
            "to_object_type": to_type, "to_record_id": to_id}
    return CloudEvent(type="crm.association.added.v1", source="t", subject="s", account_id=7,
                      data=data)


async def _one(records, object_type, **values):
    [made] = await records.create(API, object_type, [values])
    return made


async def _stage(uow, object_type, record_id):
    return uow.state.records[(7, object_type, record_id)].properties.get("lifecyclestage")


async def test_rollups_advance_never_back_never_twice_as_automation(world, uow):
    # R-ROLL-1, R-ROLL-2
    store, records, session = world
    contact = await _one(records, "contacts", email="a@x.io")
    newer = await _one(records, "calls", hs_timestamp="2024-03-02T10:00:00Z")
    older = await _one(records, "calls", hs_timestamp="2024-03-01T10:00:00Z")
    store.link("calls", newer.record_id, "contacts", contact.record_id)
    store.link("calls", older.record_id, "contacts", contact.record_id)
    await automation.apply_rollup_events(session, [record_event(newer)], NOW)
    after_newer = uow.state.records[(7, "contacts", contact.record_id)]
    assert after_newer.properties["notes_last_contacted"] == "2024-03-02T10:00:00.000Z"
    assert after_newer.properties["notes_last_updated"] == "2024-03-02T10:00:00.000Z"
    history = [h for h in uow.state.history if h[1] == "notes_last_contacted"]
    assert history[-1][4] == "AUTOMATION"
    # A late (older) event and the same event again change nothing: no new version.
    await automation.apply_rollup_events(
        session, [record_event(older), record_event(newer)], NOW)
    again = uow.state.records[(7, "contacts", contact.record_id)]
    assert again.version == after_newer.version
    assert again.properties["notes_last_contacted"] == "2024-03-02T10:00:00.000Z"
    assert store.progress[("contacts", contact.record_id, "notes_last_contacted")] == NOW


async def test_an_engagement_associated_later_counts_and_notes_are_not_contact(world, uow):
    # R-ROLL-1
    store, records, session = world
    company = await _one(records, "companies", name="Acme")
    note = await _one(records, "notes", hs_timestamp="2024-02-01T00:00:00Z")
    store.link("notes", note.record_id, "companies", company.record_id)
    await automation.apply_rollup_events(
        session, [added_event("notes", note.record_id, "companies", company.record_id)], NOW)
    values = uow.state.records[(7, "companies", company.record_id)].properties
    assert values["notes_last_updated"] == "2024-02-01T00:00:00.000Z"
    assert "notes_last_contacted" not in values


async def test_open_deal_lifts_to_opportunity_won_to_customer(world, uow):
    # R-LIFE-6, R-LIFE-4
    store, records, session = world
    contact = await _one(records, "contacts", email="d@x.io")
    company = await _one(records, "companies", name="Co", lifecyclestage="evangelist")
    deal = await _one(records, "deals", dealname="D", dealstage="appointmentscheduled")
    store.link("deals", deal.record_id, "contacts", contact.record_id)
    store.link("deals", deal.record_id, "companies", company.record_id)
    await automation.apply_deal_events(session, [record_event(deal)])
    assert await _stage(uow, "contacts", contact.record_id) == "opportunity"
    assert await _stage(uow, "companies", company.record_id) == "evangelist"  # never lowered
    [won] = await records.update(API, "deals", [(deal.record_id, {"dealstage": "closedwon"})])
    await automation.apply_deal_events(
        session, [record_event(won, "crm.record.updated.v1", ["dealstage"])])
    assert await _stage(uow, "contacts", contact.record_id) == "customer"
    history = [h for h in uow.state.history if h[1] == "lifecyclestage" and h[0] ==
               contact.record_id]
    assert history[-1][4] == "AUTOMATION"


async def test_lost_deal_demotes_no_one_and_another_won_deal_keeps_customer(world, uow):
    # R-LIFE-5
    store, records, session = world
    contact = await _one(records, "contacts", email="l@x.io")
    lost = await _one(records, "deals", dealname="L", dealstage="appointmentscheduled")
    store.link("deals", lost.record_id, "contacts", contact.record_id)
    await automation.apply_deal_events(session, [record_event(lost)])
    [lost] = await records.update(API, "deals", [(lost.record_id, {"dealstage": "closedlost"})])
    await automation.apply_deal_events(
        session, [record_event(lost, "crm.record.updated.v1", ["dealstage"])])
    assert await _stage(uow, "contacts", contact.record_id) == "opportunity"
    # A second contact already has a won deal; then the lost deal is associated to it.
    other = await _one(records, "contacts", email="w@x.io")
    won = await _one(records, "deals", dealname="W", dealstage="closedwon")
    store.link("deals", won.record_id, "contacts", other.record_id)
    await automation.apply_deal_events(
        session, [added_event("deals", won.record_id, "contacts", other.record_id)])
    store.link("deals", lost.record_id, "contacts", other.record_id)
    await automation.apply_deal_events(
        session, [added_event("deals", lost.record_id, "contacts", other.record_id)])
    assert await _stage(uow, "contacts", other.record_id) == "customer"


async def test_deal_changes_that_cannot_move_a_stage_are_skipped(world, uow):
    # R-LIFE-6: only stage and pipeline changes matter
    store, records, session = world
    contact = await _one(records, "contacts", email="s@x.io")
    deal = await _one(records, "deals", dealname="S", dealstage="appointmentscheduled")
    store.link("deals", deal.record_id, "contacts", contact.record_id)
    [renamed] = await records.update(API, "deals", [(deal.record_id, {"dealname": "S2"})])
    await automation.apply_deal_events(
        session, [record_event(renamed, "crm.record.updated.v1", ["dealname"])])
    assert await _stage(uow, "contacts", contact.record_id) == "lead"


async def test_a_batch_writes_each_record_once_naming_the_event_that_moved_it(world, uow):
    # R-ROLL-1, R-ROLL-2: a batch of events folds into one write per record
    store, records, session = world
    first = await _one(records, "contacts", email="b1@x.io")
    second = await _one(records, "contacts", email="b2@x.io")
    early = await _one(records, "calls", hs_timestamp="2024-03-01T10:00:00Z")
    late = await _one(records, "calls", hs_timestamp="2024-03-05T10:00:00Z")
    middle = await _one(records, "meetings", hs_timestamp="2024-03-03T10:00:00Z")
    store.link("calls", early.record_id, "contacts", first.record_id)
    store.link("calls", late.record_id, "contacts", first.record_id)
    store.link("meetings", middle.record_id, "contacts", second.record_id)
    version_before = uow.state.records[(7, "contacts", first.record_id)].version
    events = [record_event(early), record_event(late), record_event(middle),
              added_event("calls", early.record_id, "contacts", first.record_id)]
    await automation.apply_rollup_events(session, events, NOW)
    after = uow.state.records[(7, "contacts", first.record_id)]
    assert after.version == version_before + 1  # one write for everything the batch said
    assert after.properties["notes_last_contacted"] == "2024-03-05T10:00:00.000Z"
    assert uow.state.records[(7, "contacts", second.record_id)].properties[
        "notes_last_contacted"] == "2024-03-03T10:00:00.000Z"
    sources = {(h[0], h[1]): h[5] for h in uow.state.history if h[1] == "notes_last_contacted"}
    assert sources[(first.record_id, "notes_last_contacted")] == f"rollup:{events[1].id}"
    assert sources[(second.record_id, "notes_last_contacted")] == f"rollup:{events[2].id}"
    assert {(t, i) for t, i, _ in store.progress} == {
        ("contacts", first.record_id), ("contacts", second.record_id)}
