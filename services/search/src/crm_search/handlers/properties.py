"""The property consumer: definitions in, property types out, so that numbers
compare as numbers and dates as dates (R-SRCH-1)."""

from __future__ import annotations

import asyncpg

from crm_contracts.envelope import CloudEvent
from crm_search.adapters.property_store import upsert_property_types
from crm_search.domain.property_types import latest_per_property, property_type_from_event


async def index_property_events(conn: asyncpg.Connection, events: list[CloudEvent]) -> None:
    rows = [r for e in events if (r := property_type_from_event(e.type, e.data, e.time))]
    await upsert_property_types(conn, latest_per_property(rows))
