"""crm_platform.testing's consumer groups that start where the topics end, against
the real Kafka: a group committed at the end before it starts reads only what is
published afterwards, even when its subscriber would otherwise start at the earliest
offset. (Test tooling: no SPEC ID of its own; the integration tests that wait on
the bus rely on it.)"""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from crm_contracts import topics
from crm_contracts.topics import TopicSpec
from crm_platform.broker import make_broker, subscribe
from crm_platform.consumer import IdempotentConsumer
from crm_platform.testing import (
    commit_group_at_end,
    commit_subscribed_groups_at_end,
    unique_group_prefix,
)

pytestmark = pytest.mark.integration
KAFKA = os.environ.get("RECORDS_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092")


@pytest.fixture
async def topic():
    spec = TopicSpec(f"test.at-end.{uuid.uuid4().hex[:8]}", 2, 60_000, "this test", "")
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    await admin.create_topics([NewTopic(spec.name, num_partitions=2, replication_factor=1)])
    try:
        yield spec
    finally:
        await admin.delete_topics([spec.name])
        await admin.close()


async def _publish(topic: str, *values: bytes) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA)
    await producer.start()
    try:
        for i, value in enumerate(values):
            await producer.send_and_wait(topic, value, partition=i % 2)
    finally:
        await producer.stop()


async def _read(topic: str, group: str, wanted: int) -> list[bytes]:
    """What `group` reads of `topic` from its committed offsets (the earliest offset
    when it has none, as crm_platform.broker.subscribe does), until `wanted` came
    and nothing more for a second, or 20 s passed."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=KAFKA, group_id=group,
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    read: list[bytes] = []
    try:
        async with asyncio.timeout(20):
            while True:
                batch = await consumer.getmany(timeout_ms=1000)
                if not batch and len(read) >= wanted:
                    return sorted(read)
                read += [m.value for part in batch.values() for m in part]
    except TimeoutError:
        return sorted(read)
    finally:
        await consumer.stop()


async def test_a_group_committed_at_the_end_reads_only_what_comes_after(topic):
    await _publish(topic.name, b"old-1", b"old-2", b"old-3")
    group = f"{unique_group_prefix('at-end')}reader"
    await commit_group_at_end(KAFKA, group, topic)
    await _publish(topic.name, b"new-1", b"new-2")

    assert await _read(topic.name, group, wanted=2) == [b"new-1", b"new-2"]
    # The same backlog read by a group that was not committed: the helper made the difference.
    assert len(await _read(topic.name, f"{unique_group_prefix('at-end')}fresh", wanted=5)) == 5


async def _ends(spec: TopicSpec) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA, enable_auto_commit=False)
    await consumer.start()
    try:
        return await consumer.end_offsets(
            [TopicPartition(spec.name, p) for p in range(spec.partitions)])
    finally:
        await consumer.stop()


async def _committed(group: str, parts: list[TopicPartition]) -> dict[TopicPartition, int | None]:
    consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        return {part: await consumer.committed(part) for part in parts}
    finally:
        await consumer.stop()


async def test_every_group_subscribed_on_a_broker_is_committed_at_the_end():
    prefix = unique_group_prefix("at-end")
    groups = {f"{prefix}identity": topics.IDENTITY, f"{prefix}records": topics.RECORDS}
    broker = make_broker(KAFKA)  # never started: only the subscriptions are read
    for name, spec in groups.items():
        subscribe(broker, spec.name, IdempotentConsumer(
            name=name, service="test", pool=None, handle=None,  # type: ignore[arg-type]
            dead_letter=None))  # type: ignore[arg-type]
    before = {group: await _ends(spec) for group, spec in groups.items()}

    subscribed = await commit_subscribed_groups_at_end(KAFKA, broker)

    assert subscribed == {group: [spec.name] for group, spec in groups.items()}
    for group, spec in groups.items():
        after = await _ends(spec)  # other runs may publish on these shared topics meanwhile
        committed = await _committed(group, list(after))
        for part, end in after.items():
            assert committed[part] is not None, (group, part)
            assert before[group][part] <= committed[part] <= end, (group, part)


async def test_bad_input_is_refused_naming_what_was_wrong(topic):
    with pytest.raises(ValueError, match="records-list-membership"):
        await commit_group_at_end(KAFKA, "records-list-membership", topic)  # the platform's
    with pytest.raises(ValueError, match="crm.nope.v1"):
        await commit_group_at_end(KAFKA, f"{unique_group_prefix('at-end')}x", "crm.nope.v1")
