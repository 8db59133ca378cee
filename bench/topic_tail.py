"""Reading one topic of the bus from where it ends now, in the background, for
benches that time how long until an event shows up."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord
from service_copy import KAFKA

from crm_contracts.topics import TopicSpec


class TopicTail:
    """Every message published to `topic` after start() goes to `take(kind, message)`
    (kind: its ce_type header); subclasses keep what they measure."""

    def __init__(self, topic: TopicSpec) -> None:
        self.topic = topic
        self.consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA, enable_auto_commit=False)
        self.task: asyncio.Task | None = None

    def take(self, kind: str, message: ConsumerRecord) -> None:
        raise NotImplementedError

    async def start(self) -> None:
        await self.consumer.start()
        parts = [TopicPartition(self.topic.name, p) for p in range(self.topic.partitions)]
        self.consumer.assign(parts)
        await self.consumer.seek_to_end(*parts)
        for part in parts:
            await self.consumer.position(part)  # resolves the end now, not at the first read
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        while True:
            for messages in (await self.consumer.getmany(timeout_ms=200)).values():
                for message in messages:
                    self.take(dict(message.headers).get("ce_type", b"").decode(), message)

    async def stop(self) -> None:
        if self.task:
            self.task.cancel()
        await self.consumer.stop()
