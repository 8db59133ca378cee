"""Per-profile health scores and their history (R-CSW-3 Enterprise extras,
R-HLTH-4) from crm.healthscore.changed.v1. Idempotent and order-free: the
newest change wins the current score, and a change is stored once."""

from __future__ import annotations

import asyncpg

from crm_contracts.envelope import CloudEvent
from crm_contracts.healthscores.v1 import HealthScoreChanged


async def apply_score_changes(conn: asyncpg.Connection, events: list[CloudEvent]) -> None:
    changes = [HealthScoreChanged.model_validate(e.data) for e in events
               if e.type == HealthScoreChanged.EVENT_TYPE]
    if not changes:
        return
    await conn.executemany("""
        INSERT INTO workspace_health_changes (account_id, profile_id, customer_type,
            customer_id, changed_at, score) VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT DO NOTHING""",
        [(c.account_id, c.profile_id, c.customer_object_type, c.customer_id, c.changed_at,
          c.new_score) for c in changes])
    await conn.executemany("""
        INSERT INTO workspace_health_scores (account_id, profile_id, customer_type,
            customer_id, profile_name, score, band, changed_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (account_id, profile_id, customer_type, customer_id) DO UPDATE SET
            profile_name = excluded.profile_name, score = excluded.score,
            band = excluded.band, changed_at = excluded.changed_at
        WHERE workspace_health_scores.changed_at < excluded.changed_at""",
        [(c.account_id, c.profile_id, c.customer_object_type, c.customer_id,
          c.profile_name, c.new_score, c.new_band, c.changed_at) for c in changes])
