"""A subscriber that took less than a full batch waits before asking for the next one
(fewer, larger batches: crm_platform.broker); a full batch goes straight on."""

import pytest
from faststream.kafka import TestKafkaBroker

from crm_platform import broker as broker_module
from crm_platform.broker import make_broker, subscribe


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

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(broker_module.asyncio, "sleep", sleep)
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
