"""Recompute in batches (issue 8): customers scored in batches of queries, by the scoring
processes, end with the same scores, changes, deletions and outgoing events as customers
scored one at a time in the caller's process.
(R-HLTH-2, R-HLTH-3, R-HLTH-4, R-BUS-2)"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from crm_healthscore.adapters import store
from crm_healthscore.domain.activities import event_from_record
from crm_healthscore.domain.codec import profile_to_json, validated
from crm_healthscore.domain.standard_types import standard_types
from crm_healthscore.handlers import recompute as recompute_module

from .conftest import new_account
from .test_profiles_api import profile_body

pytestmark = pytest.mark.integration

CUSTOMERS = range(1, 8)


def big_companies_profile() -> dict:
    """Scores only companies with a name starting with "Big" (so some leave it)."""
    body = profile_body("Big ones")
    body["segments"] = [{"id": "big", "name": "Big", "filter_groups": [{"filters": [
        {"propertyName": "name", "operator": "EQ", "value": "Big Co"}]}]}]
    return body


async def seed(conn, account: int, clock_now) -> None:  # type: ignore[no-untyped-def]
    """Seven companies: big or small, some with recent calls, number 7 deleted."""
    for number in CUSTOMERS:
        name = "Big Co" if number % 2 else "Small Co"
        await store.upsert_customer(conn, account, "companies", number, 1, number == 7,
                                    {"name": name, "numberofemployees": str(number * 20)})
        for call in range(number % 4):
            call_id = number * 100 + call
            fact = event_from_record("calls", call_id, {
                "hs_timestamp": (clock_now - timedelta(days=call)).isoformat()},
                clock_now - timedelta(days=call))
            await store.upsert_activity(conn, account, "calls", call_id, 1, fact)
            await store.link(conn, account, "calls", call_id, "companies", number, True)
    for profile_id, body in (("all", profile_body("All")), ("big", big_companies_profile())):
        profile, segments = validated(body, profile_id=profile_id, status="live",
                                      property_types=standard_types("companies"))
        await conn.execute(
            "INSERT INTO profiles (account_id, profile_id, live, created_by, published_at)"
            " VALUES ($1, $2, $3, 1, now())", account, profile_id,
            profile_to_json(profile, segments))


async def outcome(conn, account: int) -> tuple:  # type: ignore[no-untyped-def]
    scores = await conn.fetch(
        "SELECT profile_id, customer_id, score, band, result, next_change_at FROM scores "
        "WHERE account_id = $1 ORDER BY profile_id, customer_id", account)
    changes = await conn.fetch(
        "SELECT profile_id, customer_id, old_score, new_score, old_band, new_band, cause "
        "FROM score_changes WHERE account_id = $1 ORDER BY id", account)
    return [tuple(r) for r in scores], [tuple(r) for r in changes]


async def test_batches_end_as_one_customer_at_a_time(health, monkeypatch):
    # R-HLTH-2 R-HLTH-3 R-HLTH-4 R-BUS-2: one query per batch, the same outcome
    now = health.clock()
    one_by_one, batched = new_account(), new_account()
    queued: dict[int, list] = {one_by_one: [], batched: []}  # the relay empties the outbox

    async def enqueue(conn, events, *, channel):  # type: ignore[no-untyped-def]
        for item in events:
            data = json.loads(item.event.value())
            queued[data["account_id"]].append((item.key.split(":", 1)[1], {
                k: v for k, v in data.items() if k not in {"alert_id", "account_id"}}))
        await real_enqueue(conn, events, channel=channel)

    real_enqueue = recompute_module.enqueue
    monkeypatch.setattr(recompute_module, "enqueue", enqueue)
    async with health.pool.acquire() as conn:
        for account in (one_by_one, batched):
            async with conn.transaction():
                await seed(conn, account, now)
        causes = {number: f"event:{number}" for number in CUSTOMERS}

        async def recompute(account, at):  # type: ignore[no-untyped-def]
            """One call per customer (scored in this process, as an event's customer is)
            or one call for all in batches of 3 (scored by the scoring processes)."""
            async with conn.transaction():
                if account == batched:
                    return await recompute_module.recompute(conn, account, "companies",
                                                            causes, at)
                return [change for number, cause in causes.items()
                        for change in await recompute_module.recompute(
                            conn, account, "companies", {number: cause}, at)]

        monkeypatch.setattr(recompute_module, "BATCH_SIZE", 3)
        # First scores, then every big company becomes small: its "big" score goes away.
        for account in (one_by_one, batched):
            first = await recompute(account, now)
            for number in CUSTOMERS:
                await store.upsert_customer(conn, account, "companies", number, 2,
                                            number == 7, {"name": "Small Co",
                                                          "numberofemployees": "10"})
            second = await recompute(account, now + timedelta(days=1))
            # first scores: six companies by "all", three big ones by "big"
            assert len(first) == 6 + 3
            # the three big ones leave "big"; 3..6 lose their 40 size points in "all"
            assert len(second) == 3 + 4
        alone_scores, alone_changes = await outcome(conn, one_by_one)
        batch_scores, batch_changes = await outcome(conn, batched)
    assert batch_scores == alone_scores and len(batch_scores) == 6  # only "all" is left
    assert batch_changes == alone_changes and len(batch_changes) == 16
    async with health.pool.acquire() as conn:  # the clock test counts every due score
        await conn.execute("DELETE FROM scores WHERE account_id = ANY($1::bigint[])",
                           [one_by_one, batched])
    assert queued[batched] == queued[one_by_one]
    assert len(queued[batched]) >= 16  # the changes, and an alert per band dropped


async def test_only_a_change_that_can_move_a_score_asks_for_one(health):
    # R-HLTH-2 R-HLTH-3: records writes our score back onto the customer; that new
    # version is stored, but scoring it again "now" would undo a clock-moved score
    account = new_account()
    first = {"name": "Big Co", "numberofemployees": "20"}
    written_back = {**first, "health_score": "80", "health_status": "healthy",
                    "hs_lastmodifieddate": "2026-11-23T10:00:00Z"}
    async with health.pool.acquire() as conn:
        async def upsert(version: int, properties: dict, gone: bool = False) -> bool:
            return await store.upsert_customer(conn, account, "companies", 1, version, gone,
                                               properties)

        assert await upsert(1, first) is True  # new
        assert await upsert(2, written_back) is False  # only our own score came back
        assert await upsert(2, {**written_back, "name": "Other"}) is False  # not newer
        assert await upsert(3, {**written_back, "name": "Other"}) is True  # an input moved
        assert await upsert(4, {**written_back, "name": "Other"}, gone=True) is True
        stored = await conn.fetchval(
            "SELECT properties->>'health_score' FROM customers WHERE account_id = $1", account)
    assert stored == "80"  # the written-back snapshot is kept all the same
