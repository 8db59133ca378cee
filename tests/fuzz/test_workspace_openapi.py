"""Fuzz the workspace service's OpenAPI document (no 5xx, responses match it)."""

from __future__ import annotations

import os
import time

import httpx
import pytest

from crm_workspace import subscriptions
from crm_workspace.main import create_app
from crm_workspace.settings import Settings
from tests.fuzz.conftest import fuzz_every_operation, operator_token, served_schema

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def workspace_served():
    """The workspace calls the platform's records and search through the gateway,
    so the fuzz account's token means the same thing to all three."""
    gateway = os.environ.get("CRM_GATEWAY_URL", "http://127.0.0.1:8080")
    yield from served_schema("WORKSPACE_", Settings, create_app, "fuzzws",
                             lambda broker, group_prefix: subscriptions.register(
                                 broker, None, group_prefix),  # type: ignore[arg-type]
                             records_url=gateway, search_url=gateway)


@pytest.fixture(scope="module")
def auth(workspace_served):
    gateway = os.environ.get("CRM_GATEWAY_URL", "http://127.0.0.1:8080")
    headers = {"Authorization": f"Bearer {operator_token(gateway)}"}
    deadline = time.monotonic() + 60
    while httpx.get(f"{workspace_served[0]}/workspace/v1/summary",
                    headers=headers).status_code == 401:
        assert time.monotonic() < deadline, "the workspace never learned the fuzz account's user"
        time.sleep(0.2)
    yield headers


def test_workspace_api_never_fails_and_keeps_its_schema(workspace_served, auth):
    fuzz_every_operation(workspace_served[1], auth, max_examples=25)
