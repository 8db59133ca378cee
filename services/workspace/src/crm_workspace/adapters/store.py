"""PostgreSQL reads and writes of the workspace's own tables."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import asyncpg

from crm_workspace.domain.settings import WorkspaceSettings
from crm_workspace.domain.views import View

# ---- settings ---------------------------------------------------------------


async def load_settings(conn: asyncpg.Connection, account_id: int
                        ) -> tuple[WorkspaceSettings, int]:
    row = await conn.fetchrow("SELECT settings, version FROM workspace_settings "
                              "WHERE account_id = $1", account_id)
    if row is None:
        return WorkspaceSettings(), 0
    return WorkspaceSettings.from_json(row["settings"]), row["version"]


async def save_settings(conn: asyncpg.Connection, account_id: int, settings: WorkspaceSettings,
                        user_id: int) -> int:
    return await conn.fetchval("""
        INSERT INTO workspace_settings (account_id, version, settings, updated_by)
        VALUES ($1, 1, $2::jsonb, $3)
        ON CONFLICT (account_id) DO UPDATE SET version = workspace_settings.version + 1,
            settings = excluded.settings, updated_by = excluded.updated_by, updated_at = now()
        RETURNING version""", account_id, settings.to_json(), user_id)


# ---- views ------------------------------------------------------------------

VIEW_COLUMNS = ("id, tab, object_type, name, sharing, owner_user_id, standard, description, "
                "default_position, filter_groups, columns, sorts, version")


def _view(row: asyncpg.Record) -> View:
    return View(id=str(row["id"]), tab=row["tab"], object_type=row["object_type"],
                name=row["name"], sharing=row["sharing"], owner_user_id=row["owner_user_id"],
                standard=row["standard"], description=row["description"],
                default_position=row["default_position"],
                filter_groups=tuple(row["filter_groups"]),
                columns=tuple(row["columns"]), sorts=tuple(row["sorts"]),
                version=row["version"])


async def seed_standard_views(conn: asyncpg.Connection, account_id: int, tab: str,
                              views: Sequence[View]) -> None:
    """Once per account and tab; a standard view deleted later stays deleted."""
    seeded = await conn.fetchval("INSERT INTO workspace_view_seeds VALUES ($1, $2) "
                                 "ON CONFLICT DO NOTHING RETURNING 1", account_id, tab)
    if seeded:
        for view in views:
            await insert_view(conn, account_id, view)


async def list_views(conn: asyncpg.Connection, account_id: int, tab: str | None = None
                     ) -> list[View]:
    rows = await conn.fetch(
        f"SELECT {VIEW_COLUMNS} FROM workspace_views WHERE account_id = $1 "
        "AND ($2::text IS NULL OR tab = $2) "
        "ORDER BY default_position NULLS LAST, standard NULLS LAST, created_at, id",
        account_id, tab)
    return [_view(r) for r in rows]


async def get_view(conn: asyncpg.Connection, account_id: int, view_id: str) -> View | None:
    try:
        key = uuid.UUID(view_id)
    except ValueError:
        return None
    row = await conn.fetchrow(f"SELECT {VIEW_COLUMNS} FROM workspace_views "
                              "WHERE account_id = $1 AND id = $2", account_id, key)
    return _view(row) if row else None


async def insert_view(conn: asyncpg.Connection, account_id: int, view: View) -> View:
    view_id = view.id or str(uuid.uuid4())
    await conn.execute("""
        INSERT INTO workspace_views (id, account_id, tab, object_type, name, sharing,
            owner_user_id, standard, description, default_position, filter_groups, columns,
            sorts) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12::jsonb,
            $13::jsonb)""", uuid.UUID(view_id), account_id, view.tab, view.object_type,
        view.name, view.sharing, view.owner_user_id, view.standard, view.description,
        view.default_position, [dict(g) for g in view.filter_groups],
        list(view.columns), [dict(s) for s in view.sorts])
    return await get_view(conn, account_id, view_id)  # type: ignore[return-value]


async def update_view(conn: asyncpg.Connection, account_id: int, view: View) -> View:
    await conn.execute("""
        UPDATE workspace_views SET name = $3, sharing = $4, description = $5,
            default_position = $6, filter_groups = $7::jsonb, columns = $8::jsonb,
            sorts = $9::jsonb, version = version + 1, updated_at = now()
        WHERE account_id = $1 AND id = $2""", account_id, uuid.UUID(view.id), view.name,
        view.sharing, view.description, view.default_position,
        [dict(g) for g in view.filter_groups], list(view.columns),
        [dict(s) for s in view.sorts])
    return await get_view(conn, account_id, view.id)  # type: ignore[return-value]


async def delete_view(conn: asyncpg.Connection, account_id: int, view_id: str) -> None:
    await conn.execute("DELETE FROM workspace_views WHERE account_id = $1 AND id = $2",
                       account_id, uuid.UUID(view_id))


async def set_default_positions(conn: asyncpg.Connection, account_id: int,
                                positions: Mapping[str, int]) -> None:
    await conn.executemany(
        "UPDATE workspace_views SET default_position = $3 WHERE account_id = $1 AND id = $2",
        [(account_id, uuid.UUID(i), p) for i, p in positions.items()])


async def compact_default_positions(conn: asyncpg.Connection, account_id: int, tab: str) -> None:
    """Close the gap a removed default leaves (1..n stays contiguous)."""
    await conn.execute("""
        UPDATE workspace_views v SET default_position = o.position FROM (
            SELECT id, row_number() OVER (ORDER BY default_position) AS position
            FROM workspace_views WHERE account_id = $1 AND tab = $2
              AND default_position IS NOT NULL) o
        WHERE v.id = o.id""", account_id, tab)


async def assigned_record_ids(conn: asyncpg.Connection, account_id: int, object_type: str,
                              property_name: str, user_id: int, since: datetime,
                              limit: int = 100) -> list[int]:
    """Records whose `property_name` was set to `user_id` since `since` (newest first).
    Capped at the search API's IN list; more is reported by the caller."""
    rows = await conn.fetch("""
        SELECT record_id, max(assigned_at) AS at FROM workspace_assignments
        WHERE account_id = $1 AND object_type = $2 AND property = $3 AND user_id = $4
          AND assigned_at >= $5
        GROUP BY record_id ORDER BY at DESC LIMIT $6""",
        account_id, object_type, property_name, user_id, since, limit)
    return [r["record_id"] for r in rows]


# ---- jobs ---------------------------------------------------------------------


async def insert_job(conn: asyncpg.Connection, account_id: int, user_id: int, kind: str,
                     request: Mapping[str, Any], report: Mapping[str, Any]) -> str:
    job_id = uuid.uuid4()
    await conn.execute("""INSERT INTO workspace_jobs (id, account_id, user_id, kind, request,
        status, report) VALUES ($1, $2, $3, $4, $5::jsonb, 'running', $6::jsonb)""",
        job_id, account_id, user_id, kind, dict(request), dict(report))
    return str(job_id)


async def save_job_report(pool: asyncpg.Pool, job_id: str, status: str,
                          report: Mapping[str, Any], finished: bool) -> None:
    await pool.execute("""UPDATE workspace_jobs SET status = $2, report = $3::jsonb,
        finished_at = CASE WHEN $4 THEN now() ELSE NULL END WHERE id = $1""",
        uuid.UUID(job_id), status, dict(report), finished)


async def get_job(conn: asyncpg.Connection, account_id: int, job_id: str
                  ) -> asyncpg.Record | None:
    try:
        key = uuid.UUID(job_id)
    except ValueError:
        return None
    return await conn.fetchrow("SELECT * FROM workspace_jobs WHERE account_id = $1 AND id = $2",
                               account_id, key)


async def is_unfollowed(conn: asyncpg.Connection, account_id: int, user_id: int,
                        object_type: str, record_id: int) -> bool:
    return bool(await conn.fetchval("""SELECT 1 FROM workspace_unfollowed WHERE account_id = $1
        AND user_id = $2 AND object_type = $3 AND record_id = $4""",
        account_id, user_id, object_type, record_id))


async def set_unfollowed(conn: asyncpg.Connection, account_id: int, user_id: int,
                         object_type: str, record_id: int, unfollowed: bool) -> None:
    """R-CSW-5: unfollowing is the user's own choice, stored for them alone."""
    if unfollowed:
        await conn.execute("""INSERT INTO workspace_unfollowed (account_id, user_id,
            object_type, record_id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING""",
            account_id, user_id, object_type, record_id)
    else:
        await conn.execute("""DELETE FROM workspace_unfollowed WHERE account_id = $1
            AND user_id = $2 AND object_type = $3 AND record_id = $4""",
            account_id, user_id, object_type, record_id)
