"""Every HTTP service's OpenAPI document, fuzzed in-process (schemathesis):
no 5xx, and no response that breaks the service's own schema. Each service
runs under uvicorn in a thread with a throwaway database, against the real
PostgreSQL, Kafka and Redis."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from hypothesis import HealthCheck, Phase, given, settings

from crm_platform.broker import make_broker
from crm_platform.testing import (
    commit_subscribed_groups_at_end,
    drop_database,
    fuzz_checks,
    service_env,
    serving,
    throwaway_database_url,
    unique_group_prefix,
)

pytestmark = pytest.mark.integration

FUZZ_OVERRIDES = {"rate_limit_per_10s": 1_000_000}


def served_schema(prefix: str, settings_class: type, create_app: Callable[[Any], FastAPI],
                  label: str, subscribe: Callable[[KafkaBroker, str], object],
                  **overrides: Any) -> Iterator[tuple[str, Any]]:
    """`subscribe(broker, group_prefix)` subscribes the service's consumers as its
    lifespan does (its subscriptions.register with no pool): those groups are
    committed at the topics' ends first, so the copy reads what the fuzz run makes
    instead of replaying the shared topics' backlog."""
    settings = settings_class(**service_env(prefix, **FUZZ_OVERRIDES,
                                            consumer_group_prefix=unique_group_prefix(label),
                                            **overrides))
    settings.database_url = throwaway_database_url(settings.database_url, label)
    names_only = make_broker(settings.kafka_bootstrap_servers)  # never started
    subscribe(names_only, settings.consumer_group_prefix)
    asyncio.run(commit_subscribed_groups_at_end(settings.kafka_bootstrap_servers, names_only))
    try:
        with serving(create_app(settings)) as url:
            yield url, schemathesis.openapi.from_url(f"{url}/openapi.json")
    finally:
        asyncio.run(drop_database(settings.database_url))


def fuzz_every_operation(schema: Any, headers: dict[str, str], max_examples: int) -> None:
    """Run generated requests against each operation; fail naming every operation
    that answered 5xx or broke its own schema. (Driven from one test function:
    schemathesis's pytest plugin does not load under this pytest.)"""
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=max_examples, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck), phases=[Phase.generate])
        def check(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=fuzz_checks())

        try:
            check()
        except Exception as failure:  # report them all, not just the first
            failures.append(f"{operation.method.upper()} {operation.path}: {failure}")
    assert not failures, "\n\n".join(failures)


def operator_token(records_url: str) -> str:
    answer = httpx.post(f"{records_url}/identity/v1/accounts", json={"name": "fuzz"},
                        headers={"X-Operator-Key": os.environ["RECORDS_OPERATOR_KEY"]},
                        timeout=30)
    assert answer.status_code == 201, answer.text
    return answer.json()["token"]
