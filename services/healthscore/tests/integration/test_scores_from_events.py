"""The facts consumer on the real broker and store: record events in, scores, changes,
alerts and health score events out; the clock moves scores without events.
(R-HLTH-2, R-HLTH-3, R-HLTH-4, R-HLTH-6, R-CSW-3, R-BUS-2, R-BUS-3)"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from crm_contracts import topics
from crm_contracts.envelope import from_kafka
from crm_platform.testing import eventually

from .conftest import associate, new_account
from .test_profiles_api import EDITOR, profile_body

pytestmark = pytest.mark.integration

CSM = 41


async def outgoing_from_here(bootstrap: str):  # type: ignore[no-untyped-def]
    """A reader of crm.healthscores.v1 from its current end."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    parts = [TopicPartition(topics.HEALTHSCORES.name, p)
             for p in range(topics.HEALTHSCORES.partitions)]
    consumer.assign(parts)
    for part, offset in (await consumer.end_offsets(parts)).items():
        consumer.seek(part, offset)
    return consumer


async def read_events(consumer, account_id: int, seen: list) -> list:  # type: ignore[no-untyped-def]
    batch = await consumer.getmany(timeout_ms=200)
    for records in batch.values():
        for record in records:
            event = from_kafka(record.headers, record.value)
            if event.account_id == account_id:
                seen.append(event)
    return seen


async def score_row(health, account: int, profile_id: str, company: int):  # type: ignore[no-untyped-def]
    return await health.pool.fetchrow(
        "SELECT score, band, next_change_at FROM scores WHERE account_id = $1 "
        "AND profile_id = $2 AND customer_id = $3", account, profile_id, company)


async def test_events_and_time_move_the_score_and_alert_the_csm(health):
    # R-HLTH-2 R-HLTH-3 R-HLTH-4 R-HLTH-6 R-CSW-3 R-BUS-2 R-BUS-3
    account, company = new_account(), 5001
    editor = await health.user(account, 1, permissions=EDITOR)
    csm = await health.user(account, CSM)
    other = await health.user(account, 42)
    client, clock = health.client, health.clock
    listener = await outgoing_from_here(health.settings.kafka_bootstrap_servers)
    published: list = []
    try:
        created = await client.post("/healthscores/v1/profiles", json=profile_body(),
                                    headers=editor)
        profile_id = created.json()["id"]
        assert (await client.post(f"/healthscores/v1/profiles/{profile_id}/publish",
                                  headers=editor)).status_code == 200

        # A company appears: first score 0, at risk; a first score alerts nobody.
        first = await health.record_event(account, "companies", company, 1, {
            "name": "Acme", "numberofemployees": "10", "hubspot_owner_id": str(CSM)})
        row = await eventually(lambda: score_row(health, account, profile_id, company),
                               what="the first score")
        assert (row["score"], row["band"], row["next_change_at"]) == (0, "at_risk", None)

        # Two calls of the last days, linked to the company: 40, neutral -> an alert.
        # (each association published in both directions, as the records service does)
        for call_id in (901, 902):
            await associate(health, account, "companies", company, "calls", call_id)
            await associate(health, account, "calls", call_id, "companies", company)
        call_time = clock.now - timedelta(days=1)
        for call_id in (901, 902):
            await health.record_event(account, "calls", call_id, 1, {
                "hs_timestamp": call_time.isoformat(), "hs_call_duration": "960000"})
        row = await eventually(lambda: _with_score(health, account, profile_id, company, 40),
                               what="the score after two calls")
        assert row["band"] == "neutral"
        assert row["next_change_at"] == call_time + timedelta(days=30)

        # Size grows (version 3), then a stale version 2 and a repeat of 3 arrive.
        grown = await health.record_event(account, "companies", company, 3, {
            "name": "Acme", "numberofemployees": "120", "hubspot_owner_id": str(CSM)})
        stale = await health.record_event(account, "companies", company, 2, {
            "name": "Acme", "numberofemployees": "5", "hubspot_owner_id": str(CSM)})
        await health.record_event(account, "companies", company, 3, {
            "name": "Acme", "numberofemployees": "120", "hubspot_owner_id": str(CSM)},
            event_id=grown.id)
        row = await eventually(lambda: _with_score(health, account, profile_id, company, 80),
                               what="the score after the company grew")
        await eventually(lambda: health.pool.fetchval(
            "SELECT true FROM processed_events WHERE event_id = $1", stale.id),
            what="the stale event to be consumed")
        await asyncio.sleep(0.5)  # and the repeat, just behind it on the same partition
        row = await score_row(health, account, profile_id, company)
        assert (row["score"], row["band"]) == (80, "healthy")

        # Time passes: the calls leave their 30-day window; only the due score moves.
        tick = await client.post("/healthscores/v1/operator/clock/tick",
                                 json={"now": (call_time + timedelta(days=30)).isoformat()},
                                 headers={"X-Operator-Key":
                                          health.settings.operator_key.get_secret_value()})
        assert tick.status_code == 200 and tick.json()["recomputed"] == 1
        row = await score_row(health, account, profile_id, company)
        assert (row["score"], row["band"], row["next_change_at"]) == (40, "neutral", None)
        assert (await client.post("/healthscores/v1/operator/clock/tick", json={},
                                  headers={"X-Operator-Key": "wrong"})).status_code == 401

        # Explain (R-HLTH-6): groups with cap notes, matched rules, every change's cause.
        explained = (await client.get(
            f"/healthscores/v1/profiles/{profile_id}/scores/{company}", headers=csm)).json()
        assert explained["score"] == 40
        size, calls = explained["groups"]
        assert size["capped_points"] == 40 and size["rules"][0]["description"] == \
            "numberofemployees >= 50: +40"
        assert calls["capped_points"] == 0 and calls["rules"] == []
        causes = [(c["old_score"], c["new_score"], c["cause"]) for c in explained["changes"]]
        assert causes[0] == (None, 0, f"event:{first.id}")
        assert causes[-2] == (40, 80, f"event:{grown.id}")
        assert causes[-1] == (80, 40, "time")
        # The calls moved it 0 -> 40 in one step, or two if they came in two batches.
        moves = [c[1] for c in causes]
        assert moves[0] == 0 and moves[-3:] == [40, 80, 40] and set(moves[1:-3]) <= {20}

        # Alerts (R-HLTH-3, R-CSW-3): the CSM's, one per change of band, newest first.
        alerts = (await client.get("/healthscores/v1/alerts", headers=csm)).json()["results"]
        assert [(a["old_band"], a["new_band"]) for a in alerts] == [
            ("healthy", "neutral"), ("neutral", "healthy"), ("at_risk", "neutral")]
        assert alerts[0]["cause"] == "time" and alerts[0]["customer_id"] == company
        fired = alerts[0]["fired_at"]
        assert (await client.get("/healthscores/v1/alerts", headers=other)).json()[
            "results"] == []
        assert (await client.get(f"/healthscores/v1/alerts?userId={CSM}",
                                 headers=other)).status_code == 403
        assert len((await client.get(f"/healthscores/v1/alerts?userId={CSM}",
                                     headers=editor)).json()["results"]) == 3

        # History (R-HLTH-4) and distribution.
        distribution = (await client.get(f"/healthscores/v1/profiles/{profile_id}/distribution",
                                         headers=csm)).json()
        assert distribution == {"at_risk": 0, "neutral": 1, "healthy": 0, "total": 1,
                                "average": 40.0}
        history = (await client.get(f"/healthscores/v1/profiles/{profile_id}/history?days=2",
                                    headers=csm)).json()["results"]
        assert history[-1]["total"] == 1 and history[-1]["average"] == 80.0

        # Every change and alert went out on crm.healthscores.v1 through the outbox.
        kinds = await eventually(lambda: _kinds(listener, account, published, len(moves) + 3),
                                 what="every change and 3 alerts on crm.healthscores.v1")
        assert kinds.count("crm.healthscore.changed.v1") == len(moves)
        assert kinds.count("crm.healthscore.alert.raised.v1") == 3
        raised = [e.data for e in published if e.type.endswith("alert.raised.v1")]
        assert raised[-1]["user_id"] == CSM and raised[-1]["cause"] == "time"
        assert fired.startswith(raised[-1]["fired_at"][:19])
    finally:
        await listener.stop()


async def _with_score(health, account, profile_id, company, value):  # type: ignore[no-untyped-def]
    row = await score_row(health, account, profile_id, company)
    return row if row and row["score"] == value else None


async def _kinds(listener, account, published, count):  # type: ignore[no-untyped-def]
    await read_events(listener, account, published)
    kinds = [e.type for e in published]
    return kinds if len(kinds) >= count else None


async def test_a_draft_is_tried_on_one_record_and_previewed_writing_nothing(health):
    # R-HLTH-6 R-AUTH-3
    account = new_account()
    editor = await health.user(account, 1, permissions=EDITOR)
    for company, employees in ((6001, "10"), (6002, "200"), (6003, "300")):
        last = await health.record_event(account, "companies", company, 1, {
            "name": f"C{company}", "numberofemployees": employees})
    await eventually(lambda: health.pool.fetchval(
        "SELECT true FROM processed_events WHERE event_id = $1", last.id),
        what="the companies to be consumed")
    draft = profile_body()
    draft["bands"] = {"at_risk_below": 30, "healthy_from": 40}
    created = await health.client.post("/healthscores/v1/profiles", json=draft, headers=editor)
    profile_id = created.json()["id"]

    tried = await health.client.post(f"/healthscores/v1/profiles/{profile_id}/try",
                                     json={"customer_id": 6002}, headers=editor)
    assert tried.status_code == 200, tried.text
    assert (tried.json()["score"], tried.json()["band"]) == (40, "healthy")
    assert tried.json()["groups"][0]["cap_note"] == "earned 40 of 40"
    assert (await health.client.post(f"/healthscores/v1/profiles/{profile_id}/try",
                                     json={"customer_id": 999999},
                                     headers=editor)).status_code == 404

    preview = await health.client.post(f"/healthscores/v1/profiles/{profile_id}/preview",
                                       headers=editor)
    assert preview.json() == {"at_risk": 1, "neutral": 0, "healthy": 2, "total": 3,
                              "average": 26.67}
    written = await health.pool.fetchval(
        "SELECT (SELECT count(*) FROM scores WHERE account_id = $1) + "
        "(SELECT count(*) FROM score_changes WHERE account_id = $1)", account)
    assert written == 0
