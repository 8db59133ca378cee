"""A throwaway search database with the service's own migrations applied."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import asyncpg
import pytest

from crm_platform.db import create_pool, migrate_async
from crm_platform.testing import drop_database, throwaway_database_url
from crm_search.main import MIGRATIONS

SEARCH_URL = os.environ.get("SEARCH_DATABASE_URL",
                            "postgresql://postgres@127.0.0.1:15432/crm_search")


@pytest.fixture(scope="module")
async def search_pool() -> AsyncIterator[asyncpg.Pool]:
    url = throwaway_database_url(SEARCH_URL, "st")
    await migrate_async(url, MIGRATIONS)
    pool = await create_pool(url, min_size=1, max_size=4)
    try:
        yield pool
    finally:
        await pool.close()
        await drop_database(url)
