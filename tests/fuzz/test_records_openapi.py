"""Fuzz the records service's OpenAPI document (no 5xx, responses match it)."""

from __future__ import annotations

import pytest

from crm_records import subscriptions
from crm_records.main import create_app
from crm_records.settings import Settings
from tests.fuzz.conftest import fuzz_every_operation, operator_token, served_schema

pytestmark = pytest.mark.integration


def subscribe_records(broker, group_prefix: str) -> None:  # type: ignore[no-untyped-def]
    subscriptions.register(broker, None, group_prefix)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def records_served():
    yield from served_schema("RECORDS_", Settings, create_app, "fuzzrec", subscribe_records)


def test_records_api_never_fails_and_keeps_its_schema(records_served):
    url, schema = records_served
    headers = {"Authorization": f"Bearer {operator_token(url)}"}
    fuzz_every_operation(schema, headers, max_examples=20)
