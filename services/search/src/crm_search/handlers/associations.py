"""The association consumer: association events in, pairs out, so that
`associations.<type>` filters find records by what they are linked to (R-SRCH-1)."""

from __future__ import annotations

import asyncpg

from crm_contracts.envelope import CloudEvent
from crm_search.adapters.association_store import upsert_associations
from crm_search.domain.associations import association_from_event, latest_per_pair


async def index_association_events(conn: asyncpg.Connection, events: list[CloudEvent]) -> None:
    states = [s for e in events if (s := association_from_event(e.type, e.data))]
    await upsert_associations(conn, latest_per_pair(states))
