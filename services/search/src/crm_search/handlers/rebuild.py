"""Rebuild the index from scratch while it keeps serving (R-SRCH-3).

1. replaying: a new table search_documents_g<id> is filled by replaying
   crm.records.v1 from the beginning (its own consumer group, the same
   record_indexer) until every partition reaches the end offset it had at the
   start. Searches keep reading the live table meanwhile.
2. switch: search_live_table names the new table. The live indexer takes that
   row FOR SHARE in each batch, so the switch waits for a batch still writing
   the old table and every later batch writes the new one.
3. catching-up: events the live indexer applied to the old table after the
   start offsets are replayed into the new table too, up to the end offsets at
   the switch (documents only move to newer versions, so applying twice is
   harmless); then done. Until then a write made during the rebuild may be
   missing from searches for a moment.

Topic retention bounds what a replay can rebuild: events older than it are gone.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from crm_contracts import topics
from crm_platform.consumer import DeadLetterSink, Delivered, IdempotentConsumer
from crm_search.adapters.live_table import switch_live_table
from crm_search.adapters.rebuild_store import save_progress, start_rebuild
from crm_search.domain.lag import RecentLag
from crm_search.domain.rebuild import reached
from crm_search.handlers.indexing import record_indexer

log = logging.getLogger("crm.search.rebuild")
SERVICE = "search"


async def run_rebuild(pool: asyncpg.Pool, bootstrap_servers: str, rebuild: dict[str, Any],
                      dead_letter: DeadLetterSink) -> None:
    rebuild_id = rebuild["id"]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers,
                                group_id=rebuild["consumer_group"], enable_auto_commit=False,
                                auto_offset_reset="earliest")
    indexer = IdempotentConsumer(
        name=rebuild["consumer_group"], service=SERVICE, pool=pool, dead_letter=dead_letter,
        handle=record_indexer(RecentLag(), table=rebuild["table_name"], measure=False))
    try:
        await consumer.start()
        partitions = [TopicPartition(topics.RECORDS.name, p)
                      for p in sorted(await _partitions(bootstrap_servers))]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await _end_offsets(consumer, partitions)
        await _save(pool, rebuild_id, end_offsets=ends)
        await _consume_until(consumer, indexer, pool, rebuild_id, partitions, ends)
        async with pool.acquire() as conn, conn.transaction():
            await switch_live_table(conn, rebuild["table_name"])
        ends = await _end_offsets(consumer, partitions)
        await _save(pool, rebuild_id, state="catching-up")
        await _consume_until(consumer, indexer, pool, rebuild_id, partitions, ends)
        await _save(pool, rebuild_id, state="done")
        log.info("rebuild %s done: %s is live", rebuild_id, rebuild["table_name"])
    except Exception as exc:
        log.exception("rebuild %s failed", rebuild_id)
        await _save(pool, rebuild_id, state="failed", error=f"{type(exc).__name__}: {exc}")
    finally:
        await consumer.stop()


async def _partitions(bootstrap_servers: str) -> set[int]:
    """The topic's partitions (a consumer knows only those of topics it subscribed to)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers)
    await producer.start()
    try:
        return set(await producer.partitions_for(topics.RECORDS.name))
    finally:
        await producer.stop()


async def _end_offsets(consumer: AIOKafkaConsumer,
                       partitions: list[TopicPartition]) -> dict[int, int]:
    return {tp.partition: o for tp, o in (await consumer.end_offsets(partitions)).items()}


async def _consume_until(consumer: AIOKafkaConsumer, indexer: IdempotentConsumer,
                         pool: asyncpg.Pool, rebuild_id: int,
                         partitions: list[TopicPartition], ends: dict[int, int]) -> None:
    positions = {tp.partition: await consumer.position(tp) for tp in partitions}
    while not reached(positions, ends):
        batches = await consumer.getmany(timeout_ms=500, max_records=500)
        messages = [Delivered.of(m) for batch in batches.values() for m in batch]
        if messages:
            await indexer.consume(messages)
            await consumer.commit()
        positions = {tp.partition: await consumer.position(tp) for tp in partitions}
        await _save(pool, rebuild_id, applied=len(messages), positions=positions)


async def _save(pool: asyncpg.Pool, rebuild_id: int, **changes: Any) -> None:
    async with pool.acquire() as conn:
        await save_progress(conn, rebuild_id, **changes)


class Rebuilds:
    """Starts rebuilds as tasks of this process and stops them with it."""

    def __init__(self, pool: asyncpg.Pool, bootstrap_servers: str, group_prefix: str,
                 dead_letter: DeadLetterSink) -> None:
        self.pool = pool
        self.bootstrap_servers = bootstrap_servers
        self.group_prefix = group_prefix
        self.dead_letter = dead_letter
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> dict[str, Any]:
        async with self.pool.acquire() as conn:
            rebuild = await start_rebuild(conn, self.group_prefix)
        task = asyncio.create_task(run_rebuild(self.pool, self.bootstrap_servers, rebuild,
                                               self.dead_letter))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return rebuild

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
