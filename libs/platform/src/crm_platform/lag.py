"""Kafka consumer-group lag as a Prometheus gauge (crm_kafka_consumer_group_lag).

A consumer measures how old the events it applies are
(crm_consumer_event_lag_seconds); that says nothing while it is stuck or gone.
This task asks the broker instead, every `interval` seconds: for each group
and topic, the partition's end offset minus the group's committed offset.
A partition the group never committed counts from the partition's first
offset (the groups start at `earliest`).

    exporter = ConsumerLagExporter(settings.kafka_bootstrap_servers,
                                   groups=["search-index"], topics=["crm.records.v1"])
    exporter.start()          # in the lifespan, after the broker
    ...
    await exporter.stop()
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from crm_platform import metrics

log = logging.getLogger("crm.lag")


def partition_lag(end: Mapping[TopicPartition, int], first: Mapping[TopicPartition, int],
                  committed: Mapping[TopicPartition, int]) -> dict[TopicPartition, int]:
    """Messages past the committed offset on each partition of `end`."""
    return {tp: max(0, end_offset - committed.get(tp, first.get(tp, 0)))
            for tp, end_offset in end.items()}


class ConsumerLagExporter:
    def __init__(self, bootstrap_servers: str, *, groups: Sequence[str] = (),
                 topics: Sequence[str] = (),
                 subscriptions: Mapping[str, Sequence[str]] | None = None,
                 interval: float = 15.0) -> None:
        """Either every group on every topic, or `subscriptions`: group -> its topics."""
        self.bootstrap_servers = bootstrap_servers
        self.subscriptions = {g: list(t) for g, t in (subscriptions or {}).items()} or {
            group: list(topics) for group in groups}
        self.topics = sorted({t for ts in self.subscriptions.values() for t in ts})
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="consumer-lag-exporter")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            try:
                await self.measure_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # broker away: the gauge keeps its last value
                log.warning("consumer lag not measured: %s", exc)
            await asyncio.sleep(self.interval)

    async def measure_once(self) -> dict[tuple[str, TopicPartition], int]:
        """Ask the broker once, set the gauge, and return lag by (group, partition)."""
        reader = AIOKafkaConsumer(bootstrap_servers=self.bootstrap_servers,
                                  enable_auto_commit=False)
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap_servers)
        await reader.start()
        await admin.start()
        try:
            partitions = [TopicPartition(described["topic"], p["partition"])
                          for described in await admin.describe_topics(self.topics)
                          for p in described["partitions"]]
            end = await reader.end_offsets(partitions)
            first = await reader.beginning_offsets(partitions)
            result = {}
            for group, group_topics in self.subscriptions.items():
                mine = [tp for tp in partitions if tp.topic in group_topics]
                offsets = await admin.list_consumer_group_offsets(group, partitions=mine)
                committed = {tp: meta.offset for tp, meta in offsets.items()
                             if meta is not None and meta.offset >= 0}
                group_end = {tp: end[tp] for tp in mine}
                for tp, lag in partition_lag(group_end, first, committed).items():
                    metrics.CONSUMER_GROUP_LAG.labels(group, tp.topic, str(tp.partition)).set(lag)
                    result[(group, tp)] = lag
            return result
        finally:
            await admin.close()
            await reader.stop()
