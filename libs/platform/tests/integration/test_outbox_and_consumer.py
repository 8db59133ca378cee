"""The outbox relay and the idempotent consumer against the real PostgreSQL and
Kafka (R-BUS-2, R-BUS-3, R-BUS-4)."""

from __future__ import annotations

import asyncio
import os
import uuid

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.partitioner import DefaultPartitioner

from crm_contracts import topics
from crm_contracts.envelope import CloudEvent, from_kafka
from crm_platform.consumer import PROCESSED_EVENTS_TABLE_SQL, Delivered, IdempotentConsumer
from crm_platform.db import create_pool, ensure_database
from crm_platform.outbox import (
    OUTBOX_HEADERS_AS_JSONB_SQL,
    OUTBOX_HEADERS_AS_TEXT_SQL,
    OUTBOX_TABLE_SQL,
    OutboxRelay,
    OutgoingEvent,
    enqueue,
)
from crm_platform.testing import drop_database, eventually, throwaway_database_url

pytestmark = pytest.mark.integration
BASE_DB = os.environ.get("RECORDS_DATABASE_URL",
                         "postgresql://postgres@127.0.0.1:15432/crm_records")
KAFKA = os.environ.get("RECORDS_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092")


@pytest.fixture
async def database():
    url = throwaway_database_url(BASE_DB, "platform")
    await ensure_database(url)
    conn = await asyncpg.connect(url)
    await conn.execute(OUTBOX_TABLE_SQL + PROCESSED_EVENTS_TABLE_SQL +
                       "CREATE TABLE effects (event_id text, value int);")
    await conn.close()
    pool = await create_pool(url)
    try:
        yield url, pool
    finally:
        await pool.close()
        await drop_database(url)


def event(value: int, subject: str = "contacts/1") -> CloudEvent:
    return CloudEvent(type="test.value.v1", source="/test", subject=subject, account_id=1,
                      data={"value": value})


def delivered(e: CloudEvent, offset: int) -> Delivered:
    return Delivered("test.topic", 0, offset, b"k", e.value(), tuple(e.headers()))


async def record_values(conn: asyncpg.Connection, events: list[CloudEvent]) -> None:
    for e in events:
        if e.data["value"] < 0:
            raise ValueError(f"negative value in {e.id}")
        await conn.execute("INSERT INTO effects VALUES ($1, $2)", e.id, e.data["value"])


async def test_repeated_events_apply_once_and_poison_goes_to_dead_letters(database):  # R-BUS-3
    _, pool = database
    parked: list[tuple[str, dict[str, str]]] = []

    async def dead_letter(topic, key, value, headers):
        parked.append((topic, headers))

    consumer = IdempotentConsumer(name="test", service="test", pool=pool, handle=record_values,
                                  dead_letter=dead_letter, retry_delays=(0.01, 0.01))
    good, poison, other = event(1), event(-1), event(2)
    await consumer.consume([delivered(good, 0), delivered(poison, 1), delivered(good, 2)])
    await consumer.consume([delivered(good, 3), delivered(other, 4)])  # redelivery of `good`
    await consumer.consume([Delivered("test.topic", 0, 5, None, b"{}", ())])  # not a CloudEvent

    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT event_id, value FROM effects ORDER BY value")
    assert [(r["event_id"], r["value"]) for r in rows] == [(good.id, 1), (other.id, 2)]
    assert [topic for topic, _ in parked] == ["test.topic.dlq", "test.topic.dlq"]
    assert "negative value" in parked[0][1]["dlq_error"]
    assert parked[0][1]["dlq_original_offset"] == "1"
    assert "missing headers" in parked[1][1]["dlq_error"]


async def test_a_consumer_idempotent_by_itself_stores_no_event_ids(database):  # R-BUS-3
    """records_event_ids=False: a redelivered event reaches the handler again (which must
    then change nothing by its own rule) and processed_events gets no row."""
    _, pool = database
    handled: list[str] = []

    async def handle(conn, events):
        handled.extend(e.id for e in events)

    async def dead_letter(*args):
        raise AssertionError("nothing is parked")

    consumer = IdempotentConsumer(name="by-itself", service="test", pool=pool, handle=handle,
                                  dead_letter=dead_letter, records_event_ids=False)
    one = event(1)
    await consumer.consume([delivered(one, 0)])
    await consumer.consume([delivered(one, 0)])
    assert handled == [one.id, one.id]
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM processed_events") == 0


# R-BUS-2 R-BUS-4
async def test_relay_publishes_committed_events_in_order_and_skips_rolled_back(database):
    url, pool = database
    subject = f"contacts/{uuid.uuid4().hex[:6]}"
    key = f"1:contacts:{subject}"
    events = [event(i, subject) for i in range(5)]
    async with pool.acquire() as conn:
        async with conn.transaction():
            await enqueue(conn, [OutgoingEvent(topics.RECORDS.name, key, e) for e in events[:3]],
                          channel="outbox_test")
        with pytest.raises(RuntimeError):
            async with conn.transaction():
                await enqueue(conn, [OutgoingEvent(topics.RECORDS.name, key, events[3])],
                              channel="outbox_test")
                raise RuntimeError("the change failed: its event must not go out")
        async with conn.transaction():
            await enqueue(conn, [OutgoingEvent(topics.RECORDS.name, key, events[4])],
                          channel="outbox_test")

    consumer = AIOKafkaConsumer(topics.RECORDS.name, bootstrap_servers=KAFKA,
                                group_id=f"test-relay-{uuid.uuid4().hex[:6]}",
                                auto_offset_reset="latest")
    await consumer.start()
    await asyncio.sleep(1.0)  # joined and positioned at the end before anything is sent
    relay = OutboxRelay(url, KAFKA, service="test")
    relay.start()
    seen: list[int] = []
    try:
        async def all_arrived() -> bool:
            batch = await consumer.getmany(timeout_ms=200)
            for messages in batch.values():
                for m in messages:
                    if m.key == key.encode():
                        seen.append(from_kafka(m.headers, m.value).data["value"])
            return len(seen) >= 4

        await eventually(all_arrived, timeout=30, what="the relay to publish 4 events")
    finally:
        await relay.stop()
        await consumer.stop()
    assert seen == [0, 1, 2, 4]
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM outbox") == 0


# R-BUS-4
async def test_relay_keeps_one_keys_order_across_traces_and_partitions(database):
    """Entries of one key written under different traces go out in the order they were
    stored (the relay once sent them grouped by trace), and each key lands on the
    partition the producer's own partitioner gives it."""
    url, pool = database
    run = uuid.uuid4().hex[:6]
    keys = [f"1:contacts:{run}-{n}" for n in range(6)]
    traces = [{"traceparent": f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01"}
              for _ in range(2)]
    entries = [OutgoingEvent(topics.RECORDS.name, key, CloudEvent(
        type="test.value.v1", source="/test", subject=f"contacts/{run}", account_id=1,
        data={"value": step}, trace_headers=traces[step % 2]))
        for step in range(6) for key in keys]
    async with pool.acquire() as conn, conn.transaction():
        await enqueue(conn, entries, channel="outbox_test")

    consumer = AIOKafkaConsumer(topics.RECORDS.name, bootstrap_servers=KAFKA,
                                group_id=f"test-relay-{run}", auto_offset_reset="latest")
    await consumer.start()
    await asyncio.sleep(1.0)  # joined and positioned at the end before anything is sent
    relay = OutboxRelay(url, KAFKA, service="test")
    relay.start()
    seen: dict[str, list[int]] = {}
    partition_of: dict[str, set[int]] = {}
    try:
        async def all_arrived() -> bool:
            for part, messages in (await consumer.getmany(timeout_ms=200)).items():
                for m in messages:
                    if m.key.decode() in keys:
                        seen.setdefault(m.key.decode(), []).append(
                            from_kafka(m.headers, m.value).data["value"])
                        partition_of.setdefault(m.key.decode(), set()).add(part.partition)
            return sum(map(len, seen.values())) >= len(entries)

        await eventually(all_arrived, timeout=30, what="the relay to publish 36 events")
    finally:
        await relay.stop()
        await consumer.stop()
    assert seen == {key: list(range(6)) for key in keys}
    partitions = sorted(range(topics.RECORDS.partitions))
    assert partition_of == {key: {DefaultPartitioner()(key.encode(), partitions, partitions)}
                            for key in keys}


async def test_only_one_relay_leads_at_a_time(database):  # R-BUS-2 (replicas)
    url, _ = database
    first, second = OutboxRelay(url, KAFKA, service="a"), OutboxRelay(url, KAFKA, service="b")
    first.start()
    await eventually(lambda: _value(first.is_leader), what="the first relay to lead")
    second.start()
    await asyncio.sleep(1.5)
    assert first.is_leader and not second.is_leader
    await first.stop()
    await eventually(lambda: _value(second.is_leader), timeout=10,
                     what="the second relay to take over")
    await second.stop()


async def _value(v):
    return v


@pytest.mark.parametrize("count", [1, 3, 25])  # 25: past the COPY threshold
async def test_enqueue_notifies_the_relays_channel_once_at_commit(database, count):  # R-BUS-2
    url, pool = database
    listener = await asyncpg.connect(url)
    heard: list[str] = []
    await listener.add_listener("outbox_test", lambda *args: heard.append(args[2]))
    try:
        async with pool.acquire() as conn, conn.transaction():
            await enqueue(conn, [OutgoingEvent(topics.RECORDS.name, "1:contacts:n", event(v))
                                 for v in range(count)], channel="outbox_test")
            await asyncio.sleep(0.2)
            assert heard == []  # not before the commit
        await eventually(lambda: _value(heard == ["outbox_test"]), timeout=5,
                         what="one notification")
        await asyncio.sleep(0.2)
        assert heard == ["outbox_test"]
        async with pool.acquire() as conn:
            assert await conn.fetchval("SELECT count(*) FROM outbox") == count
    finally:
        await listener.close()


async def test_relay_woken_by_a_commit_lingers_to_send_that_moments_commits_together(
        database):  # R-BUS-2
    """Three transactions committed back to back, each with its own NOTIFY, go out in
    one read and one produce when the relay lingers after the first wake-up."""
    url, pool = database
    relay = OutboxRelay(url, KAFKA, service="test", linger_seconds=0.5)
    batches: list[int] = []
    send_all = relay._send_all

    async def recording(producer, rows):  # type: ignore[no-untyped-def]
        batches.append(len(rows))
        await send_all(producer, rows)

    relay._send_all = recording  # type: ignore[method-assign]
    relay.start()
    try:
        await eventually(lambda: _value(relay.is_leader), what="the relay to lead")
        await asyncio.sleep(0.5)  # its first (empty) read is done: it waits for a wake-up
        for value in range(3):
            async with pool.acquire() as conn, conn.transaction():
                await enqueue(conn, [OutgoingEvent(topics.RECORDS.name, "1:contacts:linger",
                                                   event(value))], channel="outbox_test")
        await eventually(lambda: _value(sum(batches) == 3), timeout=10,
                         what="the relay to publish 3 events")
    finally:
        await relay.stop()
    assert batches == [3]



# R-BUS-2: entries queued before a service's outbox moves to text headers, in either
# shape, still go out with every header once its revision has run.
async def test_relay_publishes_entries_queued_before_and_after_the_text_header_migration(
        database):
    url, pool = database
    subject = f"contacts/{uuid.uuid4().hex[:6]}"
    key = f"1:contacts:{subject}"
    legacy, flat_in_jsonb, text_array = event(0, subject), event(1, subject), event(2, subject)
    async with pool.acquire() as conn:
        await conn.execute(  # as versions before the text headers wrote it
            "INSERT INTO outbox (topic, key, headers, payload) VALUES ($1, $2, $3, $4)",
            topics.RECORDS.name, key, [[k, v] for k, v in legacy.header_pairs()],
            legacy.value())
        await enqueue(conn, [OutgoingEvent(topics.RECORDS.name, key, flat_in_jsonb)],
                      channel="outbox_test")
        await conn.execute(OUTBOX_HEADERS_AS_TEXT_SQL)
    await pool.expire_connections()  # the column's type changed under the pooled statements
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT pg_typeof(headers)::text FROM outbox LIMIT 1") \
            == "text[]"
        await enqueue(conn, [OutgoingEvent(topics.RECORDS.name, key, text_array)],
                      channel="outbox_test")

    consumer = AIOKafkaConsumer(topics.RECORDS.name, bootstrap_servers=KAFKA,
                                group_id=f"test-relay-{uuid.uuid4().hex[:6]}",
                                auto_offset_reset="latest")
    await consumer.start()
    await asyncio.sleep(1.0)
    relay = OutboxRelay(url, KAFKA, service="test")
    relay.start()
    seen: list[CloudEvent] = []
    try:
        async def all_arrived() -> bool:
            for messages in (await consumer.getmany(timeout_ms=200)).values():
                seen.extend(from_kafka(m.headers, m.value) for m in messages
                            if m.key == key.encode())
            return len(seen) >= 3

        await eventually(all_arrived, timeout=30, what="the relay to publish 3 events")
    finally:
        await relay.stop()
        await consumer.stop()
    sent = [legacy, flat_in_jsonb, text_array]
    assert [(e.id, e.type, e.subject, e.account_id, e.data, e.time) for e in seen] == [
        (e.id, e.type, e.subject, e.account_id, e.data, e.time) for e in sent]


async def test_text_header_migration_goes_back_to_jsonb_pairs(database):  # R-BUS-2
    _, pool = database
    queued = event(7)
    async with pool.acquire() as conn:
        await conn.execute(OUTBOX_HEADERS_AS_TEXT_SQL)
    await pool.expire_connections()
    async with pool.acquire() as conn:
        await enqueue(conn, [OutgoingEvent("t", "k", queued)], channel="outbox_test")
        await conn.execute(OUTBOX_HEADERS_AS_JSONB_SQL)
    await pool.expire_connections()
    async with pool.acquire() as conn:
        stored = await conn.fetchval("SELECT headers FROM outbox")
    assert stored == [[k, v] for k, v in queued.header_pairs()]
