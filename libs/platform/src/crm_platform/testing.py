"""Helpers for integration tests against the real servers (no stand-ins):
a throwaway database per test module, a service app run in-process with its
lifespan, and polling for effects that arrive through Kafka."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
from fastapi import FastAPI

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


@asynccontextmanager
async def running(app: FastAPI, base_url: str = "http://testserver"
                  ) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan (store, broker, relay, consumers) and a client."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url,
                                     timeout=30) as client:
            yield client


async def eventually(probe: Callable[[], Awaitable[T]], *, timeout: float = 20.0,
                     interval: float = 0.05, what: str = "condition") -> T:
    """Poll `probe` until it returns something truthy; fail naming `what`."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")
