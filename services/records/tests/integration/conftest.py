"""The records service in-process against the real PostgreSQL, Kafka and Redis
(`make test` starts them), with a throwaway database and its own consumer
groups, so it never disturbs the service the gateway routes to. Those groups
start where the topics end when the session starts: every test publishes what
it waits for afterwards, and none replays the backlog of earlier runs."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import httpx
import pytest

from crm_platform.broker import make_broker
from crm_platform.testing import (
    commit_subscribed_groups_at_end,
    drop_database,
    running,
    service_env,
    throwaway_database_url,
    unique_group_prefix,
)
from crm_records import subscriptions
from crm_records.main import create_app
from crm_records.settings import Settings


@dataclass
class RecordsService:
    client: httpx.AsyncClient
    database_url: str
    operator_key: str

    async def new_account(self, name: str = "it") -> tuple[int, dict[str, str]]:
        account_id, _, headers = await self.new_account_and_admin(name)
        return account_id, headers

    async def new_account_and_admin(self, name: str = "it"
                                    ) -> tuple[int, int, dict[str, str]]:
        """(account id, its admin's user id, the admin's auth headers)."""
        answer = await self.client.post("/identity/v1/accounts", json={"name": name},
                                        headers={"X-Operator-Key": self.operator_key})
        assert answer.status_code == 201, answer.text
        body = answer.json()
        return body["accountId"], body["userId"], {"Authorization": f"Bearer {body['token']}"}

    async def sql(self, query: str, *args: object) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.database_url)
        try:
            return await conn.fetch(query, *args)
        finally:
            await conn.close()


async def start_consumer_groups_at_end(settings: Settings) -> None:
    """The app's consumer groups (as its lifespan subscribes them) committed at the
    topics' ends before it starts, instead of replaying them from the beginning."""
    names_only = make_broker(settings.kafka_bootstrap_servers)  # never started
    subscriptions.register(names_only, None, settings.consumer_group_prefix)  # type: ignore[arg-type]
    await commit_subscribed_groups_at_end(settings.kafka_bootstrap_servers, names_only)


@pytest.fixture(scope="session")
def groups_start_at_end():
    """For a module's own copy of the app: await groups_start_at_end(settings)."""
    return start_consumer_groups_at_end


@pytest.fixture(scope="session")
async def records() -> AsyncIterator[RecordsService]:
    settings = Settings(**service_env("RECORDS_",
                                      consumer_group_prefix=unique_group_prefix("records")))
    settings.database_url = throwaway_database_url(settings.database_url, "rit")
    await start_consumer_groups_at_end(settings)
    try:
        async with running(create_app(settings)) as client:
            yield RecordsService(client, settings.database_url,
                                 os.environ.get("RECORDS_OPERATOR_KEY", ""))
    finally:
        await drop_database(settings.database_url)
