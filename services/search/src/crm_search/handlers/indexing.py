"""The index consumer: record events in, documents out (R-SRCH-2: the index is
built only from bus events)."""

from __future__ import annotations

import asyncpg
from crm_contracts.envelope import CloudEvent

from crm_search.adapters.index_store import forget_merged, upsert_documents
from crm_search.domain.documents import document_from_event, merged_away, newest_per_record


async def index_record_events(conn: asyncpg.Connection, events: list[CloudEvent]) -> None:
    documents = [d for e in events if (d := document_from_event(e.type, e.data, e.time))]
    await upsert_documents(conn, newest_per_record(documents))
    await forget_merged(conn, [k for e in events if (k := merged_away(e.type, e.data))])
