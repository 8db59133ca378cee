"""deploy/local/replay_dlq.py against the real Kafka: a parked message goes back
to its topic with its key, value and original headers, without the dlq_*
ones the consumer added (R-BUS-3: replaying is how a parked event's effect
is finally applied; consumers skip it by ce_id if they had it)."""

from __future__ import annotations

import importlib.util
import os
import sys
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

pytestmark = pytest.mark.integration
KAFKA = os.environ.get("RECORDS_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092")
SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "local" / "replay_dlq.py"


def load_script():
    spec = importlib.util.spec_from_file_location("replay_dlq", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture
async def topic():
    name = f"test.replay.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    await admin.create_topics([NewTopic(name, num_partitions=3, replication_factor=1),
                               NewTopic(f"{name}.dlq", num_partitions=1, replication_factor=1)])
    try:
        yield name
    finally:
        await admin.delete_topics([name, f"{name}.dlq"])
        await admin.close()


def parked_headers(event_id: str, consumer: str) -> list[tuple[str, bytes]]:
    return [("ce_id", event_id.encode()), ("ce_type", b"crm.contact.created.v1"),
            ("traceparent", b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
            ("dlq_consumer", consumer.encode()), ("dlq_error", b"ValueError: boom"),
            ("dlq_original_topic", b"x"), ("dlq_original_partition", b"1"),
            ("dlq_original_offset", b"42")]


async def read_all(topic: str, count: int) -> list:
    reader = AIOKafkaConsumer(topic, bootstrap_servers=KAFKA, auto_offset_reset="earliest",
                              enable_auto_commit=False)
    await reader.start()
    try:
        found = []
        for _ in range(50):
            batch = await reader.getmany(timeout_ms=200)
            found += [r for records in batch.values() for r in records]
            if len(found) >= count:
                break
        return found
    finally:
        await reader.stop()


async def test_replay_restores_key_value_and_original_headers_for_one_consumer(topic):
    replay_dlq = load_script()
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA)
    await producer.start()
    try:
        await producer.send_and_wait(f"{topic}.dlq", b'{"n": 1}', key=b"7:contacts:1",
                                     headers=parked_headers("e-1", "search-index"))
        await producer.send_and_wait(f"{topic}.dlq", b'{"n": 2}', key=b"7:contacts:2",
                                     headers=parked_headers("e-2", "workspace-records"))
        await producer.send_and_wait(f"{topic}.dlq", b'{"n": 3}', key=b"7:contacts:3",
                                     headers=parked_headers("e-3", "search-index"))
    finally:
        await producer.stop()

    await replay_dlq.main([topic, "--consumer", "search-index", "--bootstrap", KAFKA])

    replayed = await read_all(topic, 2)
    assert sorted((r.key, r.value) for r in replayed) == [
        (b"7:contacts:1", b'{"n": 1}'), (b"7:contacts:3", b'{"n": 3}')]
    for record in replayed:
        names = [k for k, _ in record.headers]
        assert names == ["ce_id", "ce_type", "traceparent"]
    # The same key lands on the same partition as the producer's would.
    first = next(r for r in replayed if r.key == b"7:contacts:1")
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA)
    await producer.start()
    try:
        meta = await producer.send_and_wait(topic, b"probe", key=b"7:contacts:1")
    finally:
        await producer.stop()
    assert meta.partition == first.partition


async def test_from_offset_and_list_replay_nothing_before_the_offset(topic, capsys):
    replay_dlq = load_script()
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA)
    await producer.start()
    try:
        for n in range(3):
            await producer.send_and_wait(f"{topic}.dlq", b"%d" % n, key=b"k%d" % n,
                                         headers=parked_headers(f"e-{n}", "c"))
    finally:
        await producer.stop()

    await replay_dlq.main([topic, "--list", "--bootstrap", KAFKA])
    assert "3 parked message(s)" in capsys.readouterr().out
    parked = await replay_dlq.read_parked(KAFKA, topic, from_offset=2)
    assert [(m.offset, m.key) for m in parked] == [(2, b"k2")]
    assert parked[0].header("dlq_error") == "ValueError: boom"
