"""Health alerts for the Summary (R-CSW-3): each raised alert is kept for its CSM;
the Summary shows those fired in the last 14 days (repeats change nothing)."""

from __future__ import annotations

import asyncpg

from crm_contracts.envelope import CloudEvent
from crm_contracts.healthscores.v1 import HealthAlertRaised


async def apply_health_events(conn: asyncpg.Connection, events: list[CloudEvent]) -> None:
    rows = []
    for event in events:
        if event.type != HealthAlertRaised.EVENT_TYPE:
            continue
        alert = HealthAlertRaised.model_validate(event.data)
        if alert.user_id is None:  # a customer without a CSM: nobody's Summary
            continue
        detail = {"profileId": alert.profile_id, "profileName": alert.profile_name,
                  "oldBand": alert.old_band, "newBand": alert.new_band, "score": alert.score}
        rows.append((alert.alert_id, alert.account_id, alert.user_id,
                     alert.customer_object_type, alert.customer_id, detail,
                     alert.fired_at))
    if rows:
        await conn.executemany("""
            INSERT INTO workspace_alerts (id, account_id, user_id, object_type, record_id,
                detail, fired_at) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)
            ON CONFLICT (id) DO NOTHING""", rows)
