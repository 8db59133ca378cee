"""The health score service in-process against the real PostgreSQL, Kafka and Redis
(`make test` starts them), with a throwaway database, its own consumer groups and an
injected clock, so it never disturbs the service the gateway routes to."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI

from crm_contracts import topics
from crm_contracts.associations import v1 as associations_v1
from crm_contracts.envelope import CloudEvent, record_key
from crm_contracts.records import v1 as records_v1
from crm_healthscore import subscriptions
from crm_healthscore.main import create_app
from crm_healthscore.settings import Settings
from crm_platform.broker import make_broker
from crm_platform.identity.pg_directory import apply_user_event
from crm_platform.identity.principal import AccessProfile, ObjectScope
from crm_platform.identity.tokens import issue_token
from crm_platform.testing import (
    commit_subscribed_groups_at_end,
    drop_database,
    running,
    service_env,
    throwaway_database_url,
    unique_group_prefix,
)


@dataclass
class Clock:
    """The service's injected clock: tests move it, nobody sleeps."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    def __call__(self) -> datetime:
        return self.now


@dataclass
class HealthService:
    app: FastAPI
    client: httpx.AsyncClient
    settings: Settings
    clock: Clock
    producer: AIOKafkaProducer

    @property
    def pool(self):  # type: ignore[no-untyped-def]
        return self.app.state.runtime.pool

    async def user(self, account_id: int, user_id: int, *, seat: bool = True,
                   permissions: tuple[str, ...] = ("cs_workspace_access",),
                   super_admin: bool = False, tier: str = "standard") -> dict[str, str]:
        """A user in the service's identity copy, and their auth headers."""
        await apply_user_event(self.pool, AccessProfile(
            account_id=account_id, user_id=user_id, service_seat=seat, super_admin=super_admin,
            permissions=frozenset(permissions), account_tier=tier,  # type: ignore[arg-type]
            object_scopes={"*": ObjectScope("all", "all")}), 1)
        token, _ = issue_token(self.settings.token_secret.get_secret_value(), account_id,
                               user_id, timedelta(minutes=30))
        return {"Authorization": f"Bearer {token}"}

    async def record_event(self, account_id: int, object_type: str, record_id: int,
                           version: int, properties: dict[str, str | None], *,
                           event_id: str | None = None, archived: bool = False) -> CloudEvent:
        """Publish a record event as the records service would, on crm.records.v1."""
        stamp = self.clock.now
        data = records_v1.RecordUpdated(
            account_id=account_id, object_type=object_type, record_id=record_id,
            version=version, properties=properties, archived=archived, created_at=stamp,
            updated_at=stamp, changes=[])
        event = CloudEvent.of(data, source="/crm/records", subject=f"{object_type}/{record_id}",
                              account_id=account_id, **({"id": event_id} if event_id else {}))
        await self.producer.send_and_wait(
            topics.RECORDS.name, value=event.value(),
            key=record_key(account_id, object_type, record_id).encode(),
            headers=event.headers())
        return event


async def start_groups_at_the_end(bootstrap: str, prefix: str) -> None:
    """Commit the service's consumer groups (as its lifespan subscribes them) at the
    topics' current ends, so this copy reads only what the test publishes instead of
    replaying every earlier test's events (the subscribers start a new group at the
    earliest offset)."""
    names_only = make_broker(bootstrap)  # never started
    subscriptions.register(names_only, None, lambda: datetime.now(UTC), prefix)  # type: ignore[arg-type]
    await commit_subscribed_groups_at_end(bootstrap, names_only)


async def associate(health: HealthService, account_id: int, from_type: str, from_id: int,
                    to_type: str, to_id: int, *, added: bool = True) -> CloudEvent:
    """Publish one direction of an association change, as the records service does."""
    kind = associations_v1.AssociationAdded if added else associations_v1.AssociationRemoved
    data = kind(account_id=account_id, from_object_type=from_type, from_record_id=from_id,
                to_object_type=to_type, to_record_id=to_id, changed_at=health.clock.now,
                types=[associations_v1.AssociationType(category="HUBSPOT_DEFINED", type_id=1)])
    event = CloudEvent.of(data, source="/crm/records", subject=f"{from_type}/{from_id}",
                          account_id=account_id)
    await health.producer.send_and_wait(
        topics.ASSOCIATIONS.name, value=event.value(),
        key=record_key(account_id, from_type, from_id).encode(), headers=event.headers())
    return event


def new_account() -> int:
    return 700_000_000 + uuid.uuid4().int % 100_000_000


@pytest.fixture(scope="session")
async def health() -> AsyncIterator[HealthService]:
    settings = Settings(**service_env("HEALTHSCORE_",
                                      consumer_group_prefix=unique_group_prefix("health"),
                                      run_clock=False))
    settings.database_url = throwaway_database_url(settings.database_url, "hit")
    await start_groups_at_the_end(settings.kafka_bootstrap_servers,
                                  settings.consumer_group_prefix)
    clock = Clock()
    app = create_app(settings, {"clock": clock})
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await producer.start()
    try:
        async with running(app) as client:
            yield HealthService(app, client, settings, clock, producer)
    finally:
        await producer.stop()
        await drop_database(settings.database_url)
