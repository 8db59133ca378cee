"""The records service in-process against the real PostgreSQL, Kafka and Redis
(`make test` starts them), with a throwaway database and its own consumer
groups, so it never disturbs the service the gateway routes to."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import httpx
import pytest

from crm_platform.testing import (
    drop_database,
    running,
    service_env,
    throwaway_database_url,
    unique_group_prefix,
)
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


@pytest.fixture(scope="session")
async def records() -> AsyncIterator[RecordsService]:
    settings = Settings(**service_env("RECORDS_",
                                      consumer_group_prefix=unique_group_prefix("records")))
    settings.database_url = throwaway_database_url(settings.database_url, "rit")
    try:
        async with running(create_app(settings)) as client:
            yield RecordsService(client, settings.database_url,
                                 os.environ.get("RECORDS_OPERATOR_KEY", ""))
    finally:
        await drop_database(settings.database_url)
