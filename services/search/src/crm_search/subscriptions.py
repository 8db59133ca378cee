"""Every topic the search service consumes, in one place."""

from __future__ import annotations

import asyncpg
from crm_contracts import topics
from crm_platform.broker import dead_letter_sink, subscribe
from crm_platform.consumer import IdempotentConsumer
from crm_platform.identity.consumer import subscribe_identity
from faststream.kafka import KafkaBroker

from crm_search.handlers.associations import index_association_events
from crm_search.handlers.indexing import index_record_events
from crm_search.handlers.properties import index_property_events

SERVICE = "search"


def register(broker: KafkaBroker, pool: asyncpg.Pool, group_prefix: str = "") -> None:
    """group_prefix names the consumer groups apart (a test's own copy of the service)."""
    dead_letter = dead_letter_sink(broker)
    subscribe(broker, topics.RECORDS.name, IdempotentConsumer(
        name=f"{group_prefix}search-index", service=SERVICE, pool=pool,
        handle=index_record_events, dead_letter=dead_letter))
    subscribe(broker, topics.PROPERTIES.name, IdempotentConsumer(
        name=f"{group_prefix}search-properties", service=SERVICE, pool=pool,
        handle=index_property_events, dead_letter=dead_letter))
    subscribe(broker, topics.ASSOCIATIONS.name, IdempotentConsumer(
        name=f"{group_prefix}search-associations", service=SERVICE, pool=pool,
        handle=index_association_events, dead_letter=dead_letter))
    subscribe_identity(broker, pool, f"{group_prefix}{SERVICE}", dead_letter)
