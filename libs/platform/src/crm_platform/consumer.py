"""Idempotent, batched event consumers with dead letters (R-BUS-3).

A batch of events is applied in one PostgreSQL transaction together with the
ids of the events it applied (`processed_events`), so an event delivered twice
changes nothing the second time, and offsets are committed only after that
transaction (at-least-once in, exactly-once in effect).

When a batch fails for a reason other than the store being away, its events
are applied one at a time with retries and back-off; one that keeps failing is
parked on `<topic>.dlq` with the error, and the others go through. When the
store itself is away, the error propagates so the batch is delivered again.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol

import asyncpg
from opentelemetry import trace

from crm_contracts.envelope import CloudEvent, NotACloudEvent, from_kafka
from crm_platform import metrics
from crm_platform.db import UNAVAILABLE_ERRORS
from crm_platform.logs import event_id_var
from crm_platform.telemetry import context_from_headers, links_from, tracer

log = logging.getLogger("crm.consumer")

PROCESSED_EVENTS_TABLE_SQL = """
CREATE TABLE processed_events (
    consumer     text        NOT NULL,
    event_id     text        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
"""


class BatchHandler(Protocol):
    async def __call__(self, conn: asyncpg.Connection, events: list[CloudEvent]) -> None: ...


DeadLetterSink = Callable[[str, bytes | None, bytes, dict[str, str]], Awaitable[None]]
# Decides from a message's headers alone, as they arrived (name, bytes), whether a
# consumer wants it at all: the headers of the messages it refuses are never decoded.
HeaderFilter = Callable[[Sequence[tuple[str, bytes]]], bool]


def subject_type_in(object_types: Iterable[str]) -> HeaderFilter:
    """Only events whose subject (`{objectType}/{id}`) is of these types. Skipping
    the rest before decoding them or recording their ids saves most of the work of
    a consumer that cares about one type on a topic that carries every type."""
    wanted = frozenset(t.encode() for t in object_types)

    def accepts(headers: Sequence[tuple[str, bytes]]) -> bool:
        for name, value in headers:
            if name == "ce_subject":
                return value.split(b"/", 1)[0] in wanted
        return False

    return accepts


class Delivered(NamedTuple):
    """One Kafka message as it arrived, decoded or not. (A named tuple: one is made per
    message and consumer group, and a frozen dataclass costs twice as much to build.)"""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...]

    @classmethod
    def of(cls, record: Any) -> Delivered:
        return cls(record.topic, record.partition, record.offset, record.key,
                   record.value or b"", tuple(record.headers or ()))

    def text_headers(self) -> dict[str, str]:
        return {k: v.decode(errors="replace") for k, v in self.headers}


async def claim_new(conn: asyncpg.Connection, consumer: str,
                    events: Sequence[CloudEvent]) -> list[CloudEvent]:
    """Record these event ids as applied by `consumer`; return only the ones that
    were not already (first occurrence of each id, in order)."""
    fresh_ids = {r["event_id"] for r in await conn.fetch(
        "INSERT INTO processed_events (consumer, event_id) SELECT $1, unnest($2::text[]) "
        "ON CONFLICT DO NOTHING RETURNING event_id", consumer, [e.id for e in events])}
    fresh = []
    for event in events:
        if event.id in fresh_ids:
            fresh.append(event)
            fresh_ids.discard(event.id)
    return fresh


class IdempotentConsumer:
    def __init__(self, *, name: str, service: str, pool: asyncpg.Pool, handle: BatchHandler,
                 dead_letter: DeadLetterSink,
                 retry_delays: Sequence[float] = (0.05, 0.5, 2.0),
                 accepts: HeaderFilter | None = None, records_event_ids: bool = True) -> None:
        """records_event_ids=False: the handler is idempotent by its own means (it applies,
        say, only record versions newer than the last it applied), so the event ids are
        not stored in processed_events: a row written per event and never read."""
        self.name = name
        self.records_event_ids = records_event_ids
        self.accepts = accepts
        self.service = service
        self.pool = pool
        self.handle = handle
        self.dead_letter = dead_letter
        self.retry_delays = tuple(retry_delays)

    async def consume(self, messages: Sequence[Delivered]) -> None:
        if self.accepts is not None:
            wanted = [m for m in messages if self.accepts(m.headers)]
            metrics.EVENTS_CONSUMED.labels(self.service, self.name, "not_wanted").inc(
                len(messages) - len(wanted))
            messages = wanted
        events: list[tuple[Delivered, CloudEvent]] = []
        for message in messages:
            try:
                events.append((message, from_kafka(message.headers, message.value)))
            except NotACloudEvent as exc:
                await self._park(message, exc)
        if not events:
            return
        with tracer("crm.consumer").start_as_current_span(
                f"process {messages[0].topic}", kind=trace.SpanKind.CONSUMER,
                context=context_from_headers(events[0][1].trace_headers),
                links=links_from(e.trace_headers for _, e in events[1:]),
                attributes={"messaging.consumer.group.name": self.name,
                            "messaging.batch.message_count": len(events)}):
            try:
                await self._apply([e for _, e in events])
            except UNAVAILABLE_ERRORS:
                raise
            except Exception as exc:
                log.warning("%s: batch of %d failed (%s); applying one by one",
                            self.name, len(events), exc)
                for message, event in events:
                    await self._apply_one_with_retries(message, event)

    async def _apply(self, events: list[CloudEvent]) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            fresh = (await claim_new(conn, self.name, events) if self.records_event_ids
                     else events)
            if fresh:
                await self.handle(conn, fresh)
        now = datetime.now(UTC)
        lag = metrics.CONSUMER_LAG_SECONDS.labels(self.service, self.name)
        for event in fresh:
            lag.observe(max(0.0, (now - event.time).total_seconds()))
        metrics.EVENTS_CONSUMED.labels(self.service, self.name, "applied").inc(len(fresh))
        metrics.EVENTS_CONSUMED.labels(self.service, self.name, "duplicate").inc(
            len(events) - len(fresh))

    async def _apply_one_with_retries(self, message: Delivered, event: CloudEvent) -> None:
        token = event_id_var.set(event.id)
        try:
            for attempt, delay in enumerate((0.0, *self.retry_delays)):
                if delay:
                    await asyncio.sleep(delay)
                try:
                    await self._apply([event])
                    return
                except UNAVAILABLE_ERRORS:
                    raise
                except Exception as exc:
                    last_error = exc
                    log.warning("%s: event %s failed (attempt %d): %s",
                                self.name, event.id, attempt + 1, exc)
            await self._park(message, last_error)
        finally:
            event_id_var.reset(token)

    async def _park(self, message: Delivered, error: BaseException) -> None:
        headers = message.text_headers()
        headers.update({
            "dlq_consumer": self.name,
            "dlq_error": f"{type(error).__name__}: {error}"[:1000],
            "dlq_trace": "".join(traceback.format_exception(error))[-2000:],
            "dlq_original_topic": message.topic,
            "dlq_original_partition": str(message.partition),
            "dlq_original_offset": str(message.offset),
        })
        await self.dead_letter(f"{message.topic}.dlq", message.key, message.value, headers)
        metrics.DEAD_LETTERS.labels(self.service, self.name).inc()
        log.error("%s: parked %s[%d]@%d on %s.dlq: %s", self.name, message.topic,
                  message.partition, message.offset, message.topic, error)
