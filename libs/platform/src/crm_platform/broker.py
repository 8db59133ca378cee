"""The FastStream Kafka broker every service uses, and the one way to subscribe
an IdempotentConsumer to a topic: a batch subscriber whose offsets are
committed only after the batch's effects are stored (INFRA.md measured batch
subscribers ~86k msg/s against ~540 for a commit per message).

A subscriber that has caught up with its partitions after a batch waits
`linger_seconds` before it asks for the next one; one that is behind (a backlog, a
burst) goes straight on. Without the wait, every group fetches, opens a transaction and
commits its offsets for each few events as they trickle in; at 200 engagements/s that
cost the two-core box ~1.2 ms of CPU per engagement (bench_healthscore). The price is
latency: an event waits up to about twice the linger at each hop (the client holds the
first records fetched for a partition while it waits, and later ones come in the next
batch)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiokafka.errors import IllegalStateError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker

from crm_platform.consumer import Delivered, IdempotentConsumer


def make_broker(bootstrap_servers: str, *, linger_seconds: float = 0.0) -> KafkaBroker:
    broker = KafkaBroker(bootstrap_servers, logger=logging.getLogger("crm.faststream"),
                         log_level=logging.DEBUG, enable_idempotence=True, acks="all")
    broker.crm_linger_seconds = linger_seconds  # type: ignore[attr-defined]
    return broker


async def _raw_messages(message: Any) -> list[Delivered]:
    return [Delivered.of(record) for record in message.raw_message]


def subscribe(broker: KafkaBroker, topic: str, consumer: IdempotentConsumer, *,
              max_records: int = 500) -> None:
    """Register `consumer` for `topic` in its own consumer group (its name)."""

    # Remembered so the runtime can export each group's lag (crm_platform.lag).
    subscriptions_of(broker).setdefault(consumer.name, []).append(topic)
    linger = getattr(broker, "crm_linger_seconds", 0.0)

    subscriber = broker.subscriber(
        topic, group_id=consumer.name, batch=True, max_records=max_records,
        batch_timeout_ms=50, auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR, decoder=_raw_messages)

    @subscriber
    async def _handle(messages: list) -> None:  # type: ignore[type-arg]
        await consumer.consume(messages)
        if linger and len(messages) < max_records and await caught_up(subscriber.consumer):
            await wait_linger(linger)


async def wait_linger(seconds: float) -> None:
    """The pause of a caught-up subscriber; its own name so tests can count lingers
    apart from every other sleep on the (shared) event loop."""
    await asyncio.sleep(seconds)


async def caught_up(kafka_consumer: Any) -> bool:
    """Whether the consumer has taken every record its partitions held at their last
    fetch: a consumer still behind (a backlog, a burst) goes straight on. Without a
    consumer to ask (an in-memory test broker) it counts as caught up."""
    if kafka_consumer is None:
        return True
    try:
        for partition in kafka_consumer.assignment():
            # A highwater mark comes with a fetch response, so the position is known by
            # then (position() would otherwise wait for the committed offset).
            highwater = kafka_consumer.highwater(partition)
            if highwater is not None and await kafka_consumer.position(partition) < highwater:
                return False
    except (AssertionError, IllegalStateError):  # unassigned meanwhile: a rebalance
        return True
    return True


def subscriptions_of(broker: KafkaBroker) -> dict[str, list[str]]:
    """Consumer group -> topics, for every subscribe() on this broker."""
    if not hasattr(broker, "crm_subscriptions"):
        broker.crm_subscriptions = {}  # type: ignore[attr-defined]
    return broker.crm_subscriptions  # type: ignore[attr-defined, no-any-return]


def dead_letter_sink(broker: KafkaBroker):  # type: ignore[no-untyped-def]
    async def publish(topic: str, key: bytes | None, value: bytes,
                      headers: dict[str, str]) -> None:
        await broker.publish(value, topic=topic, key=key, headers=headers)

    return publish
