"""search_rebuilds: one row per rebuild, its state and progress (R-SRCH-3)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import asyncpg


async def start_rebuild(conn: asyncpg.Connection, group_prefix: str) -> dict[str, Any]:
    """Create the rebuild row and its empty table search_documents_g<id>."""
    async with conn.transaction():
        rebuild_id = await conn.fetchval(
            "INSERT INTO search_rebuilds (table_name, consumer_group, state)"
            " VALUES ('', '', 'replaying') RETURNING id")
        table = f"search_documents_g{rebuild_id}"
        group = f"{group_prefix}search-rebuild-{rebuild_id}"
        await conn.execute(f"CREATE TABLE {table} (LIKE search_documents INCLUDING ALL)")
        await conn.execute("UPDATE search_rebuilds SET table_name = $2, consumer_group = $3"
                           " WHERE id = $1", rebuild_id, table, group)
    return await read_rebuild(conn, rebuild_id)  # type: ignore[return-value]


async def save_progress(conn: asyncpg.Connection, rebuild_id: int, *, applied: int = 0,
                        positions: Mapping[int, int] | None = None,
                        end_offsets: Mapping[int, int] | None = None,
                        state: str | None = None, error: str | None = None) -> None:
    await conn.execute(
        "UPDATE search_rebuilds SET events_applied = events_applied + $2,"
        " positions = coalesce($3::jsonb, positions),"
        " end_offsets = coalesce($4::jsonb, end_offsets), state = coalesce($5, state),"
        " error = coalesce($6, error),"
        " switched_at = CASE WHEN $5 = 'catching-up' THEN now() ELSE switched_at END,"
        " finished_at = CASE WHEN $5 IN ('done', 'failed') THEN now() ELSE finished_at END"
        " WHERE id = $1", rebuild_id, applied, _offsets(positions), _offsets(end_offsets),
        state, error)


async def read_rebuild(conn: asyncpg.Connection, rebuild_id: int) -> dict[str, Any] | None:
    row = await conn.fetchrow("SELECT * FROM search_rebuilds WHERE id = $1", rebuild_id)
    if row is None:
        return None
    rebuild = dict(row)
    for name in ("positions", "end_offsets"):
        rebuild[name] = {int(p): o for p, o in rebuild[name].items()}
    return rebuild


async def mark_interrupted(conn: asyncpg.Connection) -> None:
    """A rebuild's consumer runs in the process that started it: after a restart
    any unfinished one is abandoned (start another)."""
    await conn.execute("UPDATE search_rebuilds SET state = 'failed', finished_at = now(),"
                       " error = 'interrupted by a restart'"
                       " WHERE state NOT IN ('done', 'failed')")


def _offsets(offsets: Mapping[int, int] | None) -> dict[str, int] | None:
    # The pool's jsonb codec encodes dicts (crm_platform.db).
    return None if offsets is None else {str(p): o for p, o in offsets.items()}
