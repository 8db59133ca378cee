"""search_live_table: the one row naming the table searches read and the live
indexer writes (R-SRCH-3). A rebuild switches it to its new table."""

from __future__ import annotations

import time

import asyncpg

DEFAULT_TABLE = "search_documents"


async def live_table(conn: asyncpg.Connection, *, lock: bool = False) -> str:
    """lock: hold the row shared until the transaction ends, so a switch waits for
    an indexing batch that is writing the old table (and the next batch sees the new)."""
    suffix = " FOR SHARE" if lock else ""
    name = await conn.fetchval(f"SELECT table_name FROM search_live_table{suffix}")
    return name or DEFAULT_TABLE


async def switch_live_table(conn: asyncpg.Connection, table: str) -> None:
    await conn.execute("UPDATE search_live_table SET table_name = $1", table)


class LiveTableCache:
    """The live table name for queries, read at most once per `seconds`: for that
    long after a switch a search may still read the previous (complete) table."""

    def __init__(self, pool: asyncpg.Pool, seconds: float = 1.0) -> None:
        self.pool = pool
        self.seconds = seconds
        self._name = DEFAULT_TABLE
        self._until = 0.0

    async def get(self) -> str:
        now = time.monotonic()
        if now >= self._until:
            async with self.pool.acquire() as conn:
                self._name = await live_table(conn)
            self._until = now + self.seconds
        return self._name
