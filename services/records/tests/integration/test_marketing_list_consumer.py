"""The list-membership consumer's batch, applied set-based on the real PostgreSQL:
the newest snapshot of a contact in a batch decides, older or repeated snapshots
change nothing, and only changes actually stored are returned (and published)."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
import pytest

from crm_contracts.envelope import CloudEvent
from crm_contracts.records import v1 as records_v1
from crm_platform.consumer import Delivered
from crm_platform.db import create_pool, init_connection
from crm_records.adapters.marketing_pg import PgMarketingStore
from crm_records.handlers.lists import apply_record_events
from crm_records.subscriptions import list_membership_consumer

pytestmark = pytest.mark.integration


def _snapshot(account_id: int, contact_id: int, version: int, city: str,
              kind: type[records_v1.RecordSnapshot] = records_v1.RecordUpdated) -> CloudEvent:
    now = datetime.now(UTC)
    extra = {"changes": []} if kind is records_v1.RecordUpdated else {}
    data = kind(account_id=account_id, object_type="contacts", record_id=contact_id,
                version=version, properties={"city": city}, created_at=now, updated_at=now,
                archived=kind is records_v1.RecordArchived, **extra)
    return CloudEvent.of(data, source="/test", account_id=account_id,
                         subject=f"contacts/{contact_id}")


async def _active_list(records, headers, city: str) -> int:
    created = await records.client.post("/crm/v3/lists", headers=headers, json={
        "name": f"In {city}", "processingType": "DYNAMIC",
        "filterGroups": [{"filters": [{"propertyName": "city", "operator": "EQ",
                                       "value": city}]}]})
    assert created.status_code == 200, created.text
    return int(created.json()["list"]["listId"])


async def _apply(records, events: list[CloudEvent]) -> set[tuple[int, int, bool]]:
    conn = await asyncpg.connect(records.database_url)
    try:
        await init_connection(conn)
        async with conn.transaction():
            changes = await apply_record_events(PgMarketingStore(conn), events,
                                                datetime.now(UTC))
    finally:
        await conn.close()
    return {(c.list_id, c.record_id, c.joined) for c in changes}


async def test_a_batch_applies_each_contacts_newest_snapshot_once(records):
    # R-MKT-3 R-BUS-4
    account_id, headers = await records.new_account()
    without_lists, _ = await records.new_account()
    made = await records.client.post("/crm/v3/objects/contacts/batch/create", headers=headers,
                                     json={"inputs": [{"properties": {"city": "Nowhere"}},
                                                      {"properties": {"city": "Nowhere"}}]})
    assert made.status_code == 201, made.text
    first, second = sorted(int(r["id"]) for r in made.json()["results"])
    in_a = await _active_list(records, headers, "A")
    in_b = await _active_list(records, headers, "B")
    # Versions far above the API's own, so the consumer of the running copy (which
    # applies the real create events) cannot race these.
    changes = await _apply(records, [
        _snapshot(account_id, first, 1001, "B"),  # the newest, though not the last
        _snapshot(account_id, first, 1000, "A"),
        _snapshot(account_id, second, 1000, "a"),  # EQ compares text case-insensitively
        _snapshot(without_lists, second, 1000, "A")])  # an account without lists
    assert changes == {(in_b, first, True), (in_a, second, True)}

    repeated = await _apply(records, [_snapshot(account_id, first, 1001, "A"),
                                      _snapshot(account_id, second, 999, "B")])
    assert repeated == set()  # same or older versions change nothing

    moved = await _apply(records, [
        _snapshot(account_id, first, 1002, "A"),
        _snapshot(account_id, second, 1001, "a", records_v1.RecordArchived)])
    assert moved == {(in_b, first, False), (in_a, first, True), (in_a, second, False)}
    rows = await records.sql("SELECT list_id, record_id FROM list_memberships"
                             " WHERE account_id = $1", account_id)
    assert {(r["list_id"], r["record_id"]) for r in rows} == {(in_a, first)}
    assert await records.sql("SELECT 1 FROM list_record_versions WHERE account_id = $1",
                             without_lists) == []


async def test_the_consumer_applies_a_redelivered_batch_once_by_versions(records):
    # R-MKT-3 R-BUS-3: the list-membership consumer stores no event ids; the versions it
    # applied make a redelivered batch change nothing.
    account_id, headers = await records.new_account()
    made = await records.client.post("/crm/v3/objects/contacts/batch/create", headers=headers,
                                     json={"inputs": [{"properties": {"city": "Nowhere"}}]})
    assert made.status_code == 201, made.text
    contact = int(made.json()["results"][0]["id"])
    in_c = await _active_list(records, headers, "C")

    async def never_parked(*args: object) -> None:
        raise AssertionError("nothing is parked")

    pool = await create_pool(records.database_url)
    consumer = list_membership_consumer(pool, never_parked, group_prefix="redelivery-")
    joined = _snapshot(account_id, contact, 2000, "C")
    left = _snapshot(account_id, contact, 2001, "Elsewhere")
    batch = [Delivered("crm.records.v1", 0, offset, None, e.value(), tuple(e.headers()))
             for offset, e in enumerate([joined, left])]
    try:
        await consumer.consume(batch[:1])
        await consumer.consume(batch[:1])  # redelivered: version 2000 is not newer
        assert await records.sql("SELECT record_id FROM list_memberships WHERE list_id = $1",
                                 in_c) == [(contact,)]
        await consumer.consume(batch[1:])
        await consumer.consume(batch)  # both again, in one batch: nothing changes
    finally:
        await pool.close()
    assert await records.sql("SELECT record_id FROM list_memberships WHERE list_id = $1",
                             in_c) == []
    assert await records.sql("SELECT version FROM list_record_versions WHERE account_id = $1"
                             " AND record_id = $2", account_id, contact) == [(2001,)]
    assert await records.sql("SELECT 1 FROM processed_events WHERE consumer ="
                             " 'redelivery-records-list-membership'") == []
