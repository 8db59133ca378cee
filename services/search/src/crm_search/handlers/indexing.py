"""The index consumer: record events in, documents out (R-SRCH-2: the index is
built only from bus events), measuring per object type how long each event
took to become searchable."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from crm_contracts.envelope import CloudEvent
from crm_platform.consumer import BatchHandler
from crm_search.adapters import metrics
from crm_search.adapters.index_store import forget_merged, upsert_documents
from crm_search.adapters.live_table import live_table
from crm_search.adapters.progress_store import record_progress
from crm_search.domain.documents import document_from_event, merged_away, newest_per_record
from crm_search.domain.lag import RecentLag, lag_samples


def record_indexer(recent: RecentLag, table: str | None = None,
                   measure: bool = True) -> BatchHandler:
    """The batch handler of the index consumer, writing into `table`, or when None
    the live table (search_live_table, R-SRCH-3). measure: count lag and progress
    (not for a rebuild's replay, whose events are old and counted already)."""

    async def index_record_events(conn: asyncpg.Connection, events: list[CloudEvent]) -> None:
        target = table or await live_table(conn, lock=True)
        documents = [d for e in events if (d := document_from_event(e.type, e.data, e.time))]
        await upsert_documents(conn, newest_per_record(documents), target)
        await forget_merged(conn, [k for e in events if (k := merged_away(e.type, e.data))],
                            target)
        if not measure:
            return
        samples = lag_samples(((e.data, e.time) for e in events), datetime.now(UTC))
        await record_progress(conn, {t: [at for _, at in s] for t, s in samples.items()})
        for object_type, pairs in samples.items():
            seconds = [lag for lag, _ in pairs]
            recent.add(object_type, seconds)
            histogram = metrics.INDEX_LAG_SECONDS.labels(object_type)
            for lag in seconds:
                histogram.observe(lag)
            metrics.EVENTS_INDEXED.labels(object_type).inc(len(seconds))

    return index_record_events
