"""Every topic the search service consumes, in one place."""

from __future__ import annotations

import asyncpg
from faststream.kafka import KafkaBroker

from crm_contracts import topics
from crm_platform.broker import dead_letter_sink, subscribe
from crm_platform.consumer import IdempotentConsumer
from crm_platform.identity.consumer import subscribe_identity
from crm_search.domain.lag import RecentLag
from crm_search.handlers.associations import index_association_events
from crm_search.handlers.indexing import record_indexer
from crm_search.handlers.properties import index_property_events

SERVICE = "search"
INDEX_GROUP = "search-index"


def register(broker: KafkaBroker, pool: asyncpg.Pool, recent_lag: RecentLag,
             group_prefix: str = "") -> None:
    """group_prefix names the consumer groups apart (a test's own copy of the service)."""
    dead_letter = dead_letter_sink(broker)
    subscribe(broker, topics.RECORDS.name, IdempotentConsumer(
        name=f"{group_prefix}{INDEX_GROUP}", service=SERVICE, pool=pool,
        handle=record_indexer(recent_lag), dead_letter=dead_letter))
    subscribe(broker, topics.PROPERTIES.name, IdempotentConsumer(
        name=f"{group_prefix}search-properties", service=SERVICE, pool=pool,
        handle=index_property_events, dead_letter=dead_letter))
    subscribe(broker, topics.ASSOCIATIONS.name, IdempotentConsumer(
        name=f"{group_prefix}search-associations", service=SERVICE, pool=pool,
        handle=index_association_events, dead_letter=dead_letter))
    subscribe_identity(broker, pool, f"{group_prefix}{SERVICE}", dead_letter)
