"""Records and search run in-process here, against the real PostgreSQL, Kafka
and Redis that `make test` started, each with its own throwaway database and
consumer groups, so they never disturb the services the gateway routes to."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from crm_platform.testing import (
    drop_database,
    eventually,
    running,
    service_env,
    throwaway_database_url,
    unique_group_prefix,
)
from crm_records.main import create_app as create_records
from crm_records.settings import Settings as RecordsSettings
from crm_search.main import create_app as create_search
from crm_search.settings import Settings as SearchSettings

pytestmark = pytest.mark.integration

EXPORTER = InMemorySpanExporter()


@pytest.fixture(scope="session")
def spans() -> InMemorySpanExporter:
    """Every span of this process, kept in memory (R-BUS-5 checks them).

    Added to the provider already set if there is one: the process's provider can be
    set only once, and in one pytest run another test module may have set it first."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(SimpleSpanProcessor(EXPORTER))
    return EXPORTER


@dataclass
class Platform:
    records: httpx.AsyncClient
    search: httpx.AsyncClient
    operator_key: str
    records_db: str
    search_db: str

    async def new_account(self, name: str = "test") -> tuple[int, dict[str, str]]:
        answer = await self.records.post("/identity/v1/accounts", json={"name": name},
                                         headers={"X-Operator-Key": self.operator_key})
        assert answer.status_code == 201, answer.text
        body = answer.json()
        return body["accountId"], {"Authorization": f"Bearer {body['token']}"}


async def caught_up(platform: Platform) -> None:
    """This copy of search starts its consumer groups at the beginning of the
    topics, so it first replays every event the run has produced so far. Wait
    for that once, by a sentinel write, so each test's own waits measure only
    its own events."""
    _, headers = await platform.new_account("warm-up")
    created = await platform.records.post("/crm/v3/objects/contacts", headers=headers,
                                          json={"properties": {"email": "warm-up@example.com"}})
    assert created.status_code == 201, created.text

    async def indexed() -> bool:
        answer = await platform.search.post(
            "/crm/v3/objects/contacts/search", headers=headers,
            json={"filterGroups": [{"filters": [{"propertyName": "email", "operator": "EQ",
                                                 "value": "warm-up@example.com"}]}]})
        return answer.status_code == 200 and answer.json()["total"] == 1

    await eventually(indexed, timeout=900, interval=0.5,
                     what="the test's search copy to replay the topics so far")


@pytest.fixture(scope="session")
async def platform(spans: InMemorySpanExporter) -> AsyncIterator[Platform]:
    prefix = unique_group_prefix("skeleton")
    records_settings = RecordsSettings(**service_env("RECORDS_", consumer_group_prefix=prefix))
    records_settings.database_url = throwaway_database_url(records_settings.database_url, "it")
    search_settings = SearchSettings(**service_env("SEARCH_", consumer_group_prefix=prefix))
    search_settings.database_url = throwaway_database_url(search_settings.database_url, "it")
    operator_key = os.environ.get("RECORDS_OPERATOR_KEY", "")
    try:
        async with running(create_records(records_settings)) as records, \
                running(create_search(search_settings)) as search:
            platform = Platform(records, search, operator_key, records_settings.database_url,
                                search_settings.database_url)
            await caught_up(platform)
            yield platform
    finally:
        await drop_database(records_settings.database_url)
        await drop_database(search_settings.database_url)
