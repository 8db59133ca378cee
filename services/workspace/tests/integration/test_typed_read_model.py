"""Revision 0003 backfills the typed read-model columns from the snapshots that
were already stored, the same way the consumer fills them (R-CSW-3)."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime

import asyncpg
import pytest
from alembic import command
from alembic.config import Config

from crm_platform.db import ensure_database, migrate_async, sqlalchemy_url
from crm_platform.testing import drop_database, throwaway_database_url
from crm_workspace.main import MIGRATIONS

pytestmark = pytest.mark.integration
DSN = os.environ.get("WORKSPACE_DATABASE_URL",
                     "postgresql://postgres@127.0.0.1:15432/crm_workspace")


def _upgrade_to(dsn: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", "crm_platform:alembic_env")
    config.set_main_option("version_locations", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    config.attributes["dsn"] = sqlalchemy_url(dsn)
    command.upgrade(config, revision)


async def test_backfill_types_due_status_and_health_like_the_consumer():
    # R-CSW-3
    url = throwaway_database_url(DSN, "ws-mig")
    await ensure_database(url)
    try:
        await asyncio.to_thread(_upgrade_to, url, "0002")
        now = datetime.now(UTC)
        rows = [("tasks", 1, {"hs_timestamp": "2025-03-10T08:00:00.000Z",
                              "hs_task_status": "COMPLETED"}),
                ("tasks", 2, {"hs_timestamp": "2025-02-30T08:00:00.000Z"}),  # no such day
                ("meetings", 3, {"hs_meeting_start_time": "2025-03-11T09:30:00.000Z"}),
                ("companies", 4, {"health_score": "73", "health_status": "healthy",
                                  "hs_timestamp": "2025-03-10T08:00:00.000Z"}),
                ("companies", 5, {"health_score": "n/a"})]
        conn = await asyncpg.connect(url)
        try:
            await conn.executemany("""INSERT INTO workspace_records (account_id, object_type,
                record_id, version, owner_id, properties, archived, created_at, updated_at)
                VALUES (1, $1, $2, 1, 7, $3::jsonb, false, $4, $4)""",
                [(t, i, json.dumps(p), now) for t, i, p in rows])
        finally:
            await conn.close()
        await migrate_async(url, MIGRATIONS)
        conn = await asyncpg.connect(url)
        try:
            typed = {r["record_id"]: r for r in await conn.fetch(
                "SELECT record_id, scheduled_at, task_status, health_score, health_band "
                "FROM workspace_records")}
        finally:
            await conn.close()
        assert typed[1]["scheduled_at"] == datetime(2025, 3, 10, 8, tzinfo=UTC)
        assert typed[1]["task_status"] == "COMPLETED"
        assert typed[2]["scheduled_at"] is None and typed[2]["task_status"] is None
        assert typed[3]["scheduled_at"] == datetime(2025, 3, 11, 9, 30, tzinfo=UTC)
        assert typed[4]["scheduled_at"] is None
        assert (typed[4]["health_score"], typed[4]["health_band"]) == (73.0, "healthy")
        assert typed[5]["health_score"] is None
    finally:
        await drop_database(url)
