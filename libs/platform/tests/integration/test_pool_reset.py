"""What a pooled connection carries to its next user (crm_platform.db.create_pool) on
the real PostgreSQL. The services' pools skip asyncpg's full release reset, so this
pins down what still holds: a transaction left open is rolled back, and session state
is only cleared by a pool made with session_state=True (docs/DEVELOPING.md)."""

from __future__ import annotations

import os

import asyncpg
import pytest

from crm_platform.db import create_pool

pytestmark = pytest.mark.integration
DSN = os.environ.get("RECORDS_DATABASE_URL", "postgresql://postgres@127.0.0.1:15432/crm_records")


@pytest.mark.parametrize("session_state", [False, True])
async def test_a_transaction_left_open_is_rolled_back_on_release(session_state):
    pool = await create_pool(DSN, min_size=1, max_size=1, session_state=session_state)
    try:
        async with pool.acquire() as conn:
            await conn.execute("BEGIN")
            await conn.execute("SET LOCAL application_name = 'left-open'")
            backend = await conn.fetchval("SELECT pg_backend_pid()")
        async with pool.acquire() as conn:
            assert await conn.fetchval("SELECT pg_backend_pid()") == backend  # same session
            assert not conn.is_in_transaction()
            assert await conn.fetchval("SHOW application_name") != "left-open"
            # A transaction-scoped lock went with the rollback: another session gets it.
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(4711)")
            other = await asyncpg.connect(DSN)
            try:
                assert await other.fetchval("SELECT pg_try_advisory_xact_lock(4711)")
            finally:
                await other.close()
    finally:
        await pool.close()


async def test_session_settings_survive_release_unless_the_pool_resets_them():
    kept = await create_pool(DSN, min_size=1, max_size=1)
    full = await create_pool(DSN, min_size=1, max_size=1, session_state=True)
    try:
        for pool, lock in ((kept, 4712), (full, 4713)):
            async with pool.acquire() as conn:
                await conn.execute("SET application_name = 'session-state'")
                await conn.execute("SELECT pg_advisory_lock($1)", lock)
        async with kept.acquire() as conn:
            # Why pooled code must not change the session: the next user inherits it.
            assert await conn.fetchval("SHOW application_name") == "session-state"
            assert await conn.fetchval("SELECT pg_advisory_unlock(4712)")
        async with full.acquire() as conn:
            assert await conn.fetchval("SHOW application_name") == ""
            assert not await conn.fetchval("SELECT pg_advisory_unlock(4713)")
    finally:
        await kept.close()
        await full.close()
