"""A store that is not reachable answers a clean 503 with Retry-After, never a 500
(R-BUS-2: nothing is half-written, the caller is told to retry). In-process, no I/O."""

from contextlib import asynccontextmanager

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from crm_platform.http import base_app


@asynccontextmanager
async def _no_lifespan(_: FastAPI):  # type: ignore[no-untyped-def]
    yield


@pytest.mark.parametrize("error", [
    ConnectionRefusedError(111, "Connect call failed"),
    asyncpg.exceptions.AdminShutdownError("terminating connection"),
    asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed"),
    # what a pooled connection the server dropped mid-read raises on its next use
    asyncpg.exceptions.InternalClientError(
        "cannot switch to state 12; another operation (2) is in progress"),
])
async def test_an_unreachable_store_answers_503_with_retry_after(error):
    app = base_app(service="unavailable-test", title="t", lifespan=_no_lifespan, checks=dict)

    @app.post("/crm/v3/objects/contacts")
    async def create() -> dict:
        raise error

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        answer = await client.post("/crm/v3/objects/contacts")
    assert answer.status_code == 503, answer.text
    assert answer.headers["Retry-After"] == "1"
    assert answer.json()["category"] == "SERVICE_UNAVAILABLE"
