"""The search service's own Prometheus metrics (R-SRCH-2: lag is first class)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

INDEX_LAG_SECONDS = Histogram(
    "crm_search_index_lag_seconds",
    "Time from a record event's creation to the index holding it, per object type",
    ["object_type"],
    buckets=(.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 1800))
EVENTS_INDEXED = Counter("crm_search_events_indexed_total",
                         "Record events applied to the search index, per object type",
                         ["object_type"])
