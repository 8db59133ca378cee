"""ConsumerLagExporter against the real Kafka: a group that committed part of a
topic shows the rest as lag on /metrics (R-BUS-3)."""

from __future__ import annotations

import os
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.structs import OffsetAndMetadata

from crm_platform import metrics
from crm_platform.lag import ConsumerLagExporter
from crm_platform.testing import eventually

pytestmark = pytest.mark.integration
KAFKA = os.environ.get("RECORDS_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092")


@pytest.fixture
async def topic():
    name = f"test.lag.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    await admin.create_topics([NewTopic(name, num_partitions=2, replication_factor=1)])
    try:
        yield name
    finally:
        await admin.delete_topics([name])
        await admin.close()


async def test_lag_per_partition_is_what_the_group_has_not_committed(topic):
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA)
    await producer.start()
    try:
        for i in range(5):
            await producer.send_and_wait(topic, b"x%d" % i, partition=0)
        for i in range(3):
            await producer.send_and_wait(topic, b"y%d" % i, partition=1)
    finally:
        await producer.stop()
    group = f"test-lag-{uuid.uuid4().hex[:6]}"
    committer = AIOKafkaConsumer(bootstrap_servers=KAFKA, group_id=group,
                                 enable_auto_commit=False)
    await committer.start()
    try:
        committer.assign([TopicPartition(topic, 0)])
        await committer.commit({TopicPartition(topic, 0): OffsetAndMetadata(2, "")})
    finally:
        await committer.stop()

    exporter = ConsumerLagExporter(KAFKA, groups=[group], topics=[topic])
    lag = await exporter.measure_once()

    assert lag == {(group, TopicPartition(topic, 0)): 3,   # 5 written, 2 committed
                   (group, TopicPartition(topic, 1)): 3}   # never committed: all 3
    gauge = metrics.CONSUMER_GROUP_LAG.labels(group, topic, "0")
    assert gauge._value.get() == 3


async def test_the_periodic_task_keeps_the_gauge_current(topic):
    group = f"test-lag-{uuid.uuid4().hex[:6]}"
    exporter = ConsumerLagExporter(KAFKA, groups=[group], topics=[topic], interval=0.2)
    exporter.start()
    try:
        producer = AIOKafkaProducer(bootstrap_servers=KAFKA)
        await producer.start()
        try:
            await producer.send_and_wait(topic, b"z", partition=1)
        finally:
            await producer.stop()
        gauge = metrics.CONSUMER_GROUP_LAG.labels(group, topic, "1")
        await eventually(lambda: _async(gauge._value.get() == 1), timeout=15,
                         what="lag of 1 on partition 1")
    finally:
        await exporter.stop()


async def _async(value):
    return value
