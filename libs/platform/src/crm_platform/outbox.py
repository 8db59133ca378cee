"""The transactional outbox (R-BUS-2): a change and its events are stored in one
transaction; a relay publishes them afterwards with an idempotent producer.

An event is published if and only if its change was committed: the handler
writes both or neither, and the relay deletes an entry only after Kafka has
acknowledged it (so a crash between the two publishes it again: delivery is at
least once, and every consumer skips an event id it has already applied).

Several replicas may run the relay. One of them holds a PostgreSQL advisory
lock (a lease tied to its connection) and publishes; the others wait to take
over when its connection goes. One publisher at a time keeps each record's
events in commit order on its partition (R-BUS-4), which SKIP LOCKED batches
taken by several publishers would not.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.producer.message_accumulator import BatchBuilder
from opentelemetry import trace

from crm_contracts.envelope import CloudEvent
from crm_platform import metrics
from crm_platform.db import init_connection
from crm_platform.telemetry import context_from_headers, current_trace_headers, tracer

log = logging.getLogger("crm.outbox")

# The table as every service's first revision created it. Applied revisions import
# this, so it stays as it was; later shapes come as their own statements below.
OUTBOX_TABLE_SQL = """
CREATE TABLE outbox (
    id          bigserial PRIMARY KEY,
    topic       text        NOT NULL,
    key         text        NOT NULL,
    headers     jsonb       NOT NULL,
    payload     bytea       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
"""
# Headers as a flat text[] (name, value, name, value, ...) instead of jsonb: asyncpg
# writes and reads text arrays in its binary format, with no JSON on either side and
# no jsonb parsing in the server. For a service's own new revision; entries already
# queued (jsonb [[name, value], ...]) are carried over. enqueue and the relay work
# with either column type, so each service moves when its revision runs.
OUTBOX_HEADERS_AS_TEXT_SQL = """
ALTER TABLE outbox ADD COLUMN header_list text[];
UPDATE outbox SET header_list = CASE WHEN jsonb_typeof(headers->0) = 'array'
    THEN ARRAY(  -- [[name, value], ...] from earlier versions
        SELECT part FROM jsonb_array_elements(headers) WITH ORDINALITY AS h(pair, n),
             LATERAL (VALUES (1, pair->>0), (2, pair->>1)) AS p(i, part)
        ORDER BY h.n, p.i)
    ELSE ARRAY(  -- already flat: written by this version into the jsonb column
        SELECT part FROM jsonb_array_elements_text(headers) WITH ORDINALITY AS h(part, n)
        ORDER BY h.n)
    END;
ALTER TABLE outbox DROP COLUMN headers;
ALTER TABLE outbox RENAME COLUMN header_list TO headers;
ALTER TABLE outbox ALTER COLUMN headers SET NOT NULL;
"""
OUTBOX_HEADERS_AS_JSONB_SQL = """
ALTER TABLE outbox ADD COLUMN header_pairs jsonb;
UPDATE outbox SET header_pairs = (
    SELECT coalesce(jsonb_agg(jsonb_build_array(headers[i], headers[i + 1]) ORDER BY i),
                    '[]'::jsonb)
    FROM generate_subscripts(headers, 1) AS i WHERE i % 2 = 1);
ALTER TABLE outbox DROP COLUMN headers;
ALTER TABLE outbox RENAME COLUMN header_pairs TO headers;
ALTER TABLE outbox ALTER COLUMN headers SET NOT NULL;
"""
RELAY_LOCK = 7_242_002


@dataclass(frozen=True)
class OutgoingEvent:
    topic: str
    key: str
    event: CloudEvent


async def enqueue(conn: asyncpg.Connection, events: Sequence[OutgoingEvent], *,
                  channel: str) -> None:
    """Store events in the caller's transaction, with the current trace context."""
    if not events:
        return
    trace_headers = current_trace_headers()
    rows = []
    for item in events:
        headers = [part for pair in item.event.header_pairs() for part in pair]
        for name, value in trace_headers.items():
            if name not in item.event.trace_headers:
                headers += (name, value)
        rows.append((item.topic, item.key, headers, item.event.value()))
    if len(rows) > 20:
        await conn.copy_records_to_table("outbox", records=rows,
                                         columns=["topic", "key", "headers", "payload"])
        await conn.execute("SELECT pg_notify($1, '')", channel)
    else:
        # The NOTIFY rides with each row's INSERT, so a few events cost one round trip
        # in all; PostgreSQL delivers a channel's identical notifications of one
        # transaction once, at commit.
        await conn.executemany(
            "WITH queued AS (INSERT INTO outbox (topic, key, headers, payload)"
            " VALUES ($1, $2, $3, $4)) SELECT pg_notify($5, '')",
            [(*row, channel) for row in rows])


def stored_headers(stored: Sequence[Any]) -> dict[str, str]:
    """An outbox row's headers as written by enqueue (a flat [name, value, ...] list, in
    a text[] or a jsonb column) or by earlier versions ([[name, value], ...] in jsonb)."""
    if stored and isinstance(stored[0], list):
        return {k: v for k, v in stored}
    return dict(zip(stored[::2], stored[1::2], strict=True))


class OutboxRelay:
    """Publishes committed outbox entries in id order, then deletes them."""

    def __init__(self, dsn: str, bootstrap_servers: str, *, service: str,
                 batch_size: int = 2000, idle_poll_seconds: float = 0.5,
                 linger_seconds: float = 0.0) -> None:
        self.dsn = dsn
        self.bootstrap_servers = bootstrap_servers
        self.service = service
        self.channel = f"outbox_{service}"
        self.batch_size = batch_size
        self.idle_poll_seconds = idle_poll_seconds
        # Woken by a commit, the relay waits this long before it reads, so the commits
        # of that moment go out as one batch: one read, one produce request and one
        # delete for several transactions instead of for each.
        self.linger_seconds = linger_seconds
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.is_leader = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"outbox-relay-{self.service}")

    async def stop(self) -> None:
        """Finish the batch in flight (SIGTERM drain), then let go of the lease."""
        self._stopping.set()
        self._wake.set()
        if self._task:
            try:
                await asyncio.wait_for(self._task, timeout=15)
            except TimeoutError:
                self._task.cancel()

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self._lead_while_possible()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # store or broker away: wait, then try again
                log.warning("outbox relay interrupted: %s", exc)
                self.is_leader = False
                await self._sleep(1.0)

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
        except TimeoutError:
            pass

    async def _lead_while_possible(self) -> None:
        conn = await asyncpg.connect(self.dsn)
        await init_connection(conn)
        producer: AIOKafkaProducer | None = None
        try:
            while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", RELAY_LOCK):
                self.is_leader = False
                await self._sleep(1.0)
                if self._stopping.is_set():
                    return
            self.is_leader = True
            await conn.add_listener(self.channel, lambda *_: self._wake.set())
            producer = await self._start_producer()
            while True:
                # Cleared before the batch is read, not after: a notify for rows committed
                # while this batch is out wakes the next one at once instead of being lost
                # (then the relay slept until the next notify or the idle poll).
                self._wake.clear()
                published = await self._publish_batch(conn, producer)
                if self._stopping.is_set() and published == 0:
                    return
                if published < self.batch_size:
                    try:
                        await asyncio.wait_for(self._wake.wait(), self.idle_poll_seconds)
                    except TimeoutError:
                        continue
                    if self.linger_seconds:
                        await self._sleep(self.linger_seconds)
        finally:
            self.is_leader = False
            if producer is not None:
                await producer.stop()
            await conn.close()

    async def _start_producer(self) -> AIOKafkaProducer:
        producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap_servers, enable_idempotence=True, acks="all",
            linger_ms=2, max_batch_size=256 * 1024, client_id=f"{self.service}-outbox")
        await producer.start()
        return producer

    async def _publish_batch(self, conn: asyncpg.Connection, producer: AIOKafkaProducer) -> int:
        rows = await conn.fetch(
            "SELECT id, topic, key, headers, payload, created_at FROM outbox ORDER BY id LIMIT $1",
            self.batch_size)
        await self._record_backlog(conn, rows)
        if not rows:
            return 0
        # A KafkaError here (OutOfOrderSequenceNumber after a broker outage
        # included, INFRA.md) ends this lead: _run starts a new producer and the
        # entries, still stored, go out again.
        await self._send_all(producer, rows)
        await conn.execute("DELETE FROM outbox WHERE id = ANY($1::bigint[])",
                           [r["id"] for r in rows])
        metrics.OUTBOX_PUBLISHED.labels(self.service).inc(len(rows))
        return len(rows)

    async def _send_all(self, producer: AIOKafkaProducer, rows: Sequence[asyncpg.Record]) -> None:
        """Every row, in id order per partition, appended to one record batch per topic
        partition (the partition the producer's own partitioner gives its key), then the
        batches sent together: no per-message send call, future or metadata lookup. One
        producer span per originating trace and topic, whose context the messages carry."""
        stored = [stored_headers(row["headers"]) for row in rows]
        groups: dict[tuple[str | None, str], int] = {}
        for row, headers in zip(rows, stored, strict=True):
            trace_key = (headers.get("traceparent"), row["topic"])
            groups[trace_key] = groups.get(trace_key, 0) + 1
        span_headers = {}
        for (traceparent, topic), count in groups.items():
            parent = context_from_headers({"traceparent": traceparent} if traceparent else {})
            with tracer("crm.outbox").start_as_current_span(
                    f"publish {topic}", context=parent, kind=trace.SpanKind.PRODUCER,
                    attributes={"messaging.system": "kafka",
                                "messaging.batch.message_count": count}):
                span_headers[(traceparent, topic)] = current_trace_headers()
        partitions = {topic: sorted(await producer.partitions_for(topic))
                      for topic in {row["topic"] for row in rows}}
        batches: dict[tuple[str, int], BatchBuilder] = {}
        futures = []
        partition_of = DefaultPartitioner()
        for row, headers in zip(rows, stored, strict=True):
            topic, key = row["topic"], row["key"].encode()
            partition = partition_of(key, partitions[topic], partitions[topic])
            message = {"key": key, "value": bytes(row["payload"]), "timestamp": None,
                       "headers": [(k, v.encode()) for k, v in {
                           **headers, **span_headers[(headers.get("traceparent"), topic)]
                       }.items()]}
            batch = batches.get((topic, partition))
            if batch is not None and batch.append(**message) is not None:
                continue
            if batch is not None:  # full: out it goes, a new one takes the rest
                futures.append(await producer.send_batch(batch, topic, partition=partition))
            batch = batches[(topic, partition)] = producer.create_batch()
            batch.append(**message)  # an empty batch takes any first message
        for (topic, partition), batch in batches.items():
            futures.append(await producer.send_batch(batch, topic, partition=partition))
        await asyncio.gather(*futures)

    async def _record_backlog(self, conn: asyncpg.Connection,
                              rows: Sequence[asyncpg.Record]) -> None:
        backlog = len(rows)
        if backlog == self.batch_size:
            # Behind: the span of ids waiting, read from the primary key's end. An upper
            # bound (rolled-back writes leave gaps), where count(*) scanned the whole
            # churning table and took up to 0.7 s of each batch on a loaded box.
            backlog = await conn.fetchval("SELECT max(id) FROM outbox") - rows[0]["id"] + 1
        metrics.OUTBOX_BACKLOG.labels(self.service).set(backlog)
        oldest = rows[0]["created_at"] if rows else None
        age = (datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0
        metrics.OUTBOX_OLDEST_AGE.labels(self.service).set(age)
