"""Every topic the health score service consumes, in one place.

- crm.records.v1, group {prefix}healthscore-facts: record created, updated, archived,
  restored, merged, deleted, of customers (companies, contacts), engagements (calls,
  meetings, emails, notes) and tickets.
- crm.associations.v1, group {prefix}healthscore-links: association added, removed,
  between an engagement or ticket and a customer (which events count for whom).
- crm.properties.v1, group {prefix}healthscore-properties: property defined, changed,
  archived (the types profiles are validated against).
- crm.workspace.v1, group {prefix}healthscore-workspace: workspace settings changed
  (which object is the customer, which property names the CSM).
- crm.identity.v1, group {prefix}healthscore-identity: users and revoked tokens.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import asyncpg
from faststream.kafka import KafkaBroker

from crm_contracts import topics
from crm_healthscore.handlers.facts import (
    apply_property_events,
    apply_workspace_events,
    association_handler,
    record_handler,
)
from crm_platform.broker import dead_letter_sink, subscribe
from crm_platform.consumer import IdempotentConsumer
from crm_platform.identity.consumer import subscribe_identity

SERVICE = "healthscore"


def register(broker: KafkaBroker, pool: asyncpg.Pool, clock: Callable[[], datetime],
             group_prefix: str = "", alert_days: int = 14) -> None:
    dead_letter = dead_letter_sink(broker)

    def consumer(area: str, handle) -> IdempotentConsumer:  # type: ignore[no-untyped-def]
        return IdempotentConsumer(name=f"{group_prefix}{SERVICE}-{area}", service=SERVICE,
                                  pool=pool, handle=handle, dead_letter=dead_letter)

    subscribe(broker, topics.RECORDS.name, consumer("facts", record_handler(clock, alert_days)))
    subscribe(broker, topics.ASSOCIATIONS.name,
              consumer("links", association_handler(clock, alert_days)))
    subscribe(broker, topics.PROPERTIES.name, consumer("properties", apply_property_events))
    subscribe(broker, topics.WORKSPACE.name, consumer("workspace", apply_workspace_events))
    subscribe_identity(broker, pool, SERVICE, dead_letter, group_prefix=group_prefix)
