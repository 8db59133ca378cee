"""The workspace in-process, with a throwaway database, against the records and
search services the platform runs (through the gateway) and the real
PostgreSQL, Kafka and Redis."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from crm_platform.broker import make_broker
from crm_platform.testing import (
    commit_subscribed_groups_at_end,
    drop_database,
    eventually,
    running,
    service_env,
    throwaway_database_url,
    unique_group_prefix,
)
from crm_workspace import subscriptions
from crm_workspace.main import create_app
from crm_workspace.settings import Settings

pytestmark = pytest.mark.integration
# The groups start where the topics end when the session starts (every test makes
# new accounts, so a fresh read model misses nothing it needs), and their prefix is
# this session's own: two sessions at once never share a group's partitions.
PREFIX = unique_group_prefix("workspace-it")


@pytest.fixture(scope="session")
def gateway_url() -> str:
    """Records and search as the running platform serves them (`make test` starts
    them): their account and user ids are the ones on the bus, so the
    workspace's identity copy and read model match what they answer."""
    return os.environ.get("CRM_GATEWAY_URL", "http://127.0.0.1:8080")


@dataclass
class User:
    user_id: int
    headers: dict[str, str]


@dataclass
class World:
    workspace: httpx.AsyncClient
    records: httpx.AsyncClient
    search: httpx.AsyncClient
    database_url: str

    async def new_account(self) -> tuple[int, User]:
        answer = await self.records.post(
            "/identity/v1/accounts", json={"name": "ws"},
            headers={"X-Operator-Key": os.environ.get("RECORDS_OPERATOR_KEY", "")})
        assert answer.status_code == 201, answer.text
        body = answer.json()
        admin = User(body["userId"], {"Authorization": f"Bearer {body['token']}"})
        await self.known(admin)
        return body["accountId"], admin

    async def new_user(self, admin: User, **profile: Any) -> User:
        profile.setdefault("email", f"u{os.urandom(4).hex()}@example.com")
        profile.setdefault("objectScopes", {"*": {"view": "all", "edit": "all"}})
        made = await self.records.post("/identity/v1/users", json=profile,
                                       headers=admin.headers)
        assert made.status_code == 201, made.text
        user_id = made.json()["id"]
        token = await self.records.post("/identity/v1/tokens", json={"userId": user_id},
                                        headers=admin.headers)
        assert token.status_code == 201, token.text
        user = User(user_id, {"Authorization": f"Bearer {token.json()['token']}"})
        await self.known(user)
        return user

    async def csm(self, admin: User) -> User:
        return await self.new_user(admin, serviceSeat=True, permissions=["cs_workspace_access"])

    async def known(self, user: User) -> None:
        """Wait until the workspace's identity copy knows the user."""
        async def probe() -> bool:
            answer = await self.workspace.get("/workspace/v1/dashboards", headers=user.headers)
            return answer.status_code != 401
        await eventually(probe, timeout=30, what="the workspace to learn the user")

    async def create(self, user: User, object_type: str, properties: dict[str, Any]) -> str:
        made = await self.records.post(f"/crm/v3/objects/{object_type}",
                                       json={"properties": properties}, headers=user.headers)
        assert made.status_code == 201, made.text
        return made.json()["id"]


@pytest.fixture(scope="session")
async def world(gateway_url: str) -> AsyncIterator[World]:
    settings = Settings(**service_env("WORKSPACE_", consumer_group_prefix=PREFIX,
                                      records_url=gateway_url, search_url=gateway_url))
    settings.database_url = throwaway_database_url(settings.database_url, "wsit")
    names_only = make_broker(settings.kafka_bootstrap_servers)  # never started
    subscriptions.register(names_only, None, PREFIX)  # type: ignore[arg-type]
    await commit_subscribed_groups_at_end(settings.kafka_bootstrap_servers, names_only)
    try:
        async with running(create_app(settings)) as client, \
                httpx.AsyncClient(base_url=gateway_url, timeout=30) as records, \
                httpx.AsyncClient(base_url=gateway_url, timeout=30) as search:
            yield World(client, records, search, settings.database_url)
    finally:
        await drop_database(settings.database_url)
