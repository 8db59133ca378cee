"""Every topic the exports service consumes, in one place.

| topic              | group                        | event types used             |
|--------------------|------------------------------|------------------------------|
| crm.exports.v1     | {prefix}exports-requests     | crm.export.requested.v1      |
| crm.properties.v1  | {prefix}exports-properties   | crm.property.*.v1            |
| crm.identity.v1    | {prefix}exports-identity     | user upserted, token revoked |
"""

from __future__ import annotations

import asyncpg
from faststream.kafka import KafkaBroker

from crm_contracts import topics
from crm_exports.handlers.consumers import accept_export_requests, keep_property_definitions
from crm_platform.broker import dead_letter_sink, subscribe
from crm_platform.consumer import IdempotentConsumer
from crm_platform.identity.consumer import subscribe_identity

SERVICE = "exports"


def register(broker: KafkaBroker, pool: asyncpg.Pool, group_prefix: str = "") -> None:
    dead_letter = dead_letter_sink(broker)
    subscribe(broker, topics.EXPORTS.name, IdempotentConsumer(
        name=f"{group_prefix}exports-requests", service=SERVICE, pool=pool,
        handle=accept_export_requests, dead_letter=dead_letter))
    subscribe(broker, topics.PROPERTIES.name, IdempotentConsumer(
        name=f"{group_prefix}exports-properties", service=SERVICE, pool=pool,
        handle=keep_property_definitions, dead_letter=dead_letter))
    subscribe_identity(broker, pool, SERVICE, dead_letter, group_prefix=group_prefix)
