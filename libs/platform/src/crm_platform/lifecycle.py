"""Start-up and shutdown of the parts every service holds: store, Redis, Kafka
broker, outbox relay. Kafka may be down when a service starts: HTTP still
serves (writes wait in the outbox) and the broker keeps retrying; /readyz
says what is missing."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from faststream.kafka import KafkaBroker
from redis.asyncio import Redis

from crm_platform.broker import make_broker, subscriptions_of
from crm_platform.db import create_pool, migrate_async
from crm_platform.lag import ConsumerLagExporter
from crm_platform.outbox import OutboxRelay
from crm_platform.probes import Check
from crm_platform.settings import PlatformSettings
from crm_platform.telemetry import setup_tracing

log = logging.getLogger("crm.lifecycle")


@dataclass
class Runtime:
    service: str
    settings: PlatformSettings
    pool: asyncpg.Pool
    redis: Redis
    broker: KafkaBroker
    relay: OutboxRelay | None = None
    broker_ready: asyncio.Event = field(default_factory=asyncio.Event)
    lag_exporter: ConsumerLagExporter | None = None
    _broker_task: asyncio.Task[None] | None = None

    def checks(self) -> dict[str, Check]:
        async def store() -> None:
            async with self.pool.acquire(timeout=2) as conn:
                await conn.fetchval("SELECT 1")

        async def kafka() -> None:
            if not self.broker_ready.is_set() or not await self.broker.ping(timeout=1.5):
                raise ConnectionError("Kafka broker not connected")

        return {"postgres": store, "redis": self.redis.ping, "kafka": kafka}

    async def start_broker(self) -> None:
        """Start the broker (subscribers registered before), retrying while Kafka is down."""
        async def keep_trying() -> None:
            delay = 0.5
            while True:
                try:
                    await self.broker.start()
                    self.broker_ready.set()
                    self._export_consumer_lag()
                    return
                except Exception as exc:  # broker down: retry with back-off
                    log.warning("Kafka not reachable yet (%s); retrying in %.1fs", exc, delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 5.0)

        self._broker_task = asyncio.create_task(keep_trying(), name=f"{self.service}-broker")

    def _export_consumer_lag(self) -> None:
        subscriptions = subscriptions_of(self.broker)
        if subscriptions:
            self.lag_exporter = ConsumerLagExporter(self.settings.kafka_bootstrap_servers,
                                                    subscriptions=subscriptions)
            self.lag_exporter.start()

    async def stop(self) -> None:
        """SIGTERM drain: stop consuming, flush the relay, close connections."""
        if self._broker_task and not self._broker_task.done():
            self._broker_task.cancel()
        if self.lag_exporter:
            await self.lag_exporter.stop()
        await self.broker.stop()
        if self.relay:
            await self.relay.stop()
        await self.pool.close()
        await self.redis.aclose()


async def start_runtime(service: str, settings: PlatformSettings, versions_dir: Path) -> Runtime:
    setup_tracing(service)
    await migrate_async(settings.database_url, versions_dir)
    pool = await create_pool(settings.database_url, min_size=settings.db_pool_min,
                             max_size=settings.db_pool_max)
    redis = Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
    relay = None
    if settings.run_outbox_relay:
        relay = OutboxRelay(settings.database_url, settings.kafka_bootstrap_servers,
                            service=service, linger_seconds=settings.outbox_linger_ms / 1000)
        relay.start()
    broker = make_broker(settings.kafka_bootstrap_servers,
                         linger_seconds=settings.consumer_linger_ms / 1000)
    return Runtime(service, settings, pool, redis, broker, relay)
