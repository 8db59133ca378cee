"""The record-event consumer: keeps the workspace's read model (records and
user assignments) in step with crm.records.v1 (R-BUS-3: idempotent, any order)."""

from __future__ import annotations

import asyncpg

from crm_contracts.envelope import CloudEvent
from crm_workspace.domain.read_model import assignments, forgotten, newest, snapshot


async def apply_record_events(conn: asyncpg.Connection, events: list[CloudEvent]) -> None:
    rows = newest(s for e in events if (s := snapshot(e.type, e.data)))
    if rows:
        await conn.executemany("""
            INSERT INTO workspace_records (account_id, object_type, record_id, version,
                owner_id, properties, archived, created_at, updated_at, scheduled_at,
                task_status, health_score, health_band)
            VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, $11, $12, $13)
            ON CONFLICT (account_id, object_type, record_id) DO UPDATE SET
                version = excluded.version, owner_id = excluded.owner_id,
                properties = excluded.properties, archived = excluded.archived,
                updated_at = excluded.updated_at, scheduled_at = excluded.scheduled_at,
                task_status = excluded.task_status, health_score = excluded.health_score,
                health_band = excluded.health_band
            WHERE workspace_records.version < excluded.version""",
            [(r.account_id, r.object_type, r.record_id, r.version, r.owner_id,
              dict(r.properties), r.archived, r.created_at, r.updated_at, r.scheduled_at,
              r.task_status, r.health_score, r.health_band)
             for r in rows])
    assigned = [a for e in events for a in assignments(e.type, e.data, e.time)]
    if assigned:
        await conn.executemany("""
            INSERT INTO workspace_assignments (account_id, object_type, record_id, property,
                user_id, assigned_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING""",
            [(a.account_id, a.object_type, a.record_id, a.property, a.user_id, a.assigned_at)
             for a in assigned])
    gone = [k for e in events if (k := forgotten(e.type, e.data))]
    for account_id, object_type, record_id in gone:
        await conn.execute("DELETE FROM workspace_records WHERE account_id = $1 AND "
                           "object_type = $2 AND record_id = $3", account_id, object_type,
                           record_id)
        await conn.execute("DELETE FROM workspace_assignments WHERE account_id = $1 AND "
                           "object_type = $2 AND record_id = $3", account_id, object_type,
                           record_id)
