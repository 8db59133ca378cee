"""Fuzz the search service's OpenAPI document (no 5xx, responses match it)."""

from __future__ import annotations

import time

import httpx
import pytest

from crm_records import subscriptions as records_subscriptions
from crm_records.main import create_app as create_records
from crm_records.settings import Settings as RecordsSettings
from crm_search import subscriptions
from crm_search.main import create_app
from crm_search.settings import Settings
from tests.fuzz.conftest import fuzz_every_operation, operator_token, served_schema

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def search_served():
    yield from served_schema("SEARCH_", Settings, create_app, "fuzzsearch",
                             lambda broker, group_prefix: subscriptions.register(
                                 broker, None, None, group_prefix),  # type: ignore[arg-type]
                             consistency_wait_seconds=0.05)


@pytest.fixture(scope="module")
def auth(search_served):
    """A token the search service knows: made by a records service, learned from
    the identity events it publishes."""
    records_served = served_schema(
        "RECORDS_", RecordsSettings, create_records, "fuzzsrec",
        lambda broker, group_prefix: records_subscriptions.register(
            broker, None, group_prefix))  # type: ignore[arg-type]
    records_url, _ = next(records_served)
    headers = {"Authorization": f"Bearer {operator_token(records_url)}"}
    # Search's identity group started at the topic's end before the user was made.
    deadline = time.monotonic() + 60
    while httpx.post(f"{search_served[0]}/crm/v3/objects/contacts/search", json={},
                     headers=headers, timeout=60).status_code == 401:
        assert time.monotonic() < deadline, "search never learned the fuzz account's user"
        time.sleep(0.1)
    yield headers
    next(records_served, None)


def test_search_api_never_fails_and_keeps_its_schema(search_served, auth):
    fuzz_every_operation(search_served[1], auth, max_examples=60)
