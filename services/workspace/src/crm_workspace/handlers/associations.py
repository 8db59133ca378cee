"""The association-event consumer: keeps which record is associated to which
(crm.associations.v1), for the feed (R-CSW-9). Idempotent and order-proof
(R-BUS-3): a pair's newest change wins, a repeat or an older one changes nothing."""

from __future__ import annotations

import asyncpg

from crm_contracts.envelope import CloudEvent
from crm_workspace.domain.feed import association_change


async def apply_association_events(conn: asyncpg.Connection, events: list[CloudEvent]) -> None:
    changes = [c for e in events if (c := association_change(e.type, e.data))]
    for c in sorted(changes, key=lambda c: c.changed_at):
        await conn.execute("""
            INSERT INTO workspace_associations (account_id, from_type, from_id, to_type, to_id,
                associated, changed_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
            ON CONFLICT (account_id, from_type, from_id, to_type, to_id) DO UPDATE SET
                associated = excluded.associated, changed_at = excluded.changed_at
            WHERE workspace_associations.changed_at <= excluded.changed_at""",
            c.account_id, c.from_type, c.from_id, c.to_type, c.to_id, c.associated,
            c.changed_at)
