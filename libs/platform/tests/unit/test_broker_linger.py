"""A subscriber that took less than a full batch and has caught up waits before asking
for the next one (fewer, larger batches: crm_platform.broker); a full batch goes straight on."""

import pytest
from faststream.kafka import TestKafkaBroker

from crm_platform import broker as broker_module
from crm_platform.broker import caught_up, make_broker, subscribe


class Recording:
    """Stands in for an IdempotentConsumer: remembers each batch it was given."""

    name = "test-linger"

    def __init__(self) -> None:
        self.batches: list[int] = []

    async def consume(self, messages: list) -> None:  # type: ignore[type-arg]
        self.batches.append(len(messages))


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []

    async def linger(seconds: float) -> None:
        slept.append(seconds)

    # Only the broker's linger: the session-wide event loop may run other tests' tasks,
    # whose own sleeps are no concern of these tests (a global patch caught one in CI).
    monkeypatch.setattr(broker_module, "wait_linger", linger)
    return slept


async def test_a_short_batch_waits_the_linger(sleeps: list[float]) -> None:
    broker = make_broker("unused:9092", linger_seconds=0.1)
    consumer = Recording()
    subscribe(broker, "t", consumer, max_records=3)  # type: ignore[arg-type]
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish_batch(b"a", b"b", topic="t")
    assert consumer.batches == [2]
    assert sleeps == [0.1]


async def test_a_full_batch_goes_straight_on(sleeps: list[float]) -> None:
    broker = make_broker("unused:9092", linger_seconds=0.1)
    consumer = Recording()
    subscribe(broker, "t", consumer, max_records=3)  # type: ignore[arg-type]
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish_batch(b"a", b"b", b"c", topic="t")
    assert consumer.batches == [3]
    assert sleeps == []


async def test_no_linger_by_default(sleeps: list[float]) -> None:
    broker = make_broker("unused:9092")
    consumer = Recording()
    subscribe(broker, "t", consumer, max_records=3)  # type: ignore[arg-type]
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish_batch(b"a", topic="t")
    assert consumer.batches == [1]
    assert sleeps == []


class KafkaConsumerAt:
    """The part of an AIOKafkaConsumer `caught_up` reads: per partition, the position
    and the highwater mark of its last fetch (None before any)."""

    def __init__(self, positions: dict[int, int], highwaters: dict[int, int | None]) -> None:
        self.positions, self.highwaters = positions, highwaters

    def assignment(self) -> set[int]:
        return set(self.positions)

    def highwater(self, partition: int) -> int | None:
        return self.highwaters[partition]

    async def position(self, partition: int) -> int:
        return self.positions[partition]


async def test_a_consumer_with_records_left_on_a_partition_is_behind() -> None:
    assert not await caught_up(KafkaConsumerAt({0: 10, 1: 5}, {0: 10, 1: 9}))


async def test_a_consumer_at_every_highwater_mark_has_caught_up() -> None:
    assert await caught_up(KafkaConsumerAt({0: 10, 1: 9}, {0: 10, 1: 9}))
    assert await caught_up(KafkaConsumerAt({0: 0}, {0: None}))  # nothing fetched yet
    assert await caught_up(None)
