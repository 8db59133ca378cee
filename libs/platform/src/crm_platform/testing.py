"""Helpers for integration tests against the real servers (no stand-ins):
a throwaway database per test module, a service app run in-process with its
lifespan, consumer groups that start where the shared topics end now, and
polling for effects that arrive through Kafka."""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import uvicorn
from aiokafka import AIOKafkaConsumer, TopicPartition
from fastapi import FastAPI
from faststream.kafka import KafkaBroker

from crm_contracts.topics import ALL_TOPICS, TopicSpec
from crm_platform.broker import subscriptions_of

T = TypeVar("T")


def service_env(prefix: str, **overrides: Any) -> dict[str, Any]:
    """A service's settings from the environment deploy/local/env.sh exports,
    as keyword arguments for its Settings class."""
    values: dict[str, Any] = {}
    for key, value in os.environ.items():
        if key.startswith(prefix):
            values[key[len(prefix):].lower()] = value
    values.update(overrides)
    return values


def throwaway_database_url(url: str, label: str) -> str:
    """The same server, a fresh database named after the test (dropped by drop_database)."""
    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/')}_{label}_{uuid.uuid4().hex[:8]}"
    return urlunsplit(parts._replace(path="/" + name))


async def drop_database(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    conn = await asyncpg.connect(urlunsplit(parts._replace(path="/postgres")))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def unique_group_prefix(label: str) -> str:
    return f"test-{label}-{uuid.uuid4().hex[:6]}-"


async def commit_group_at_end(bootstrap_servers: str, group: str,
                              *group_topics: TopicSpec | str) -> None:
    """Commit `group`'s offsets at the topics' current ends, so that when it starts
    it reads only what is published from now on, however large a backlog the
    shared topics hold. Done before the group's consumer starts, this has no race:
    auto_offset_reset="latest" is resolved only when the group is assigned,
    after events the test may already have published."""
    if not group.startswith("test-"):
        # The running platform's groups have no prefix: moving them would skip events.
        raise ValueError(f"only a test's own consumer group may be moved to the end, "
                         f"not {group!r} (make its prefix with unique_group_prefix)")
    parts = [TopicPartition(spec.name, p) for spec in map(_topic_spec, group_topics)
             for p in range(spec.partitions)]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=group,
                                enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(parts)
        await consumer.commit(await consumer.end_offsets(parts))
    finally:
        await consumer.stop()


def _topic_spec(topic: TopicSpec | str) -> TopicSpec:
    if isinstance(topic, TopicSpec):
        return topic
    for spec in ALL_TOPICS:
        if spec.name == topic:
            return spec
    raise ValueError(f"{topic!r} is not a topic of crm_contracts.topics")


async def commit_subscribed_groups_at_end(bootstrap_servers: str,
                                          broker: KafkaBroker) -> dict[str, list[str]]:
    """Every consumer group subscribed on `broker` (crm_platform.broker.subscribe,
    before the broker starts) committed at the current end of its topics; returns
    group -> topics. For a service app run by a test, subscribe its consumers on a
    broker that is never started, as its lifespan would (`subscriptions.register(
    broker, None, prefix)`: only the names are read), and call this before the app
    starts: its fresh groups then skip the backlog earlier runs left on the bus."""
    subscribed = subscriptions_of(broker)
    for group, group_topics in subscribed.items():
        await commit_group_at_end(bootstrap_servers, group, *group_topics)
    return subscribed


@asynccontextmanager
async def running(app: FastAPI, base_url: str = "http://testserver"
                  ) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan (store, broker, relay, consumers) and a client."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url,
                                     timeout=30) as client:
            yield client


async def eventually(probe: Callable[[], Awaitable[T]], *, timeout: float = 20.0,  # noqa: ASYNC109
                     interval: float = 0.05, what: str = "condition") -> T:
    """Poll `probe` until it returns something truthy; fail naming `what`.

    The pause starts at `interval` and grows by half each time up to 0.5 s, or a
    twentieth of `timeout` if that is less (never below `interval`): a quick condition
    is seen quickly and a short deadline is polled finely, while a slow condition (a
    loaded CI box) is not polled through the API's burst limit of 190 calls per 10 s,
    which would turn a late answer into a 429."""
    deadline = time.monotonic() + timeout
    pause, longest = interval, max(interval, min(0.5, timeout / 20))
    last: T | None = None
    while time.monotonic() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(pause)
        pause = min(pause * 1.5, longest)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def wait_until(probe: Callable[[], T], what: str, timeout: float = 60.0,
               interval: float = 0.2) -> T:
    """`eventually` for synchronous tests (the SDK and httpx clients of tests/e2e)."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


@contextmanager
def serving(app: FastAPI, port: int = 0) -> Iterator[str]:
    """The app under a real uvicorn server in a thread of this process (its own
    event loop), for clients that need a URL, such as the schema fuzzer."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                            lifespan="on", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="serving", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the app did not start; see its log")
        time.sleep(0.05)
    bound_port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{bound_port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def fuzz_checks() -> list[Any]:
    """What every service's schema fuzzing asserts: no 5xx, and every response
    matches the schema the service itself publishes."""
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import response_schema_conformance

    return [not_a_server_error, response_schema_conformance]
