"""Every topic the workspace service consumes, in one place.

- crm.records.v1 (every record event type): the read model of records and
  user assignments (customers, tasks, meetings, engagements).
- crm.associations.v1 (added, removed): which contact belongs to which company
  and which engagement to which contact, for the feed.
- crm.healthscores.v1 (alert raised): the Summary's alerts for each CSM; (score
  changed, its own group so a first start replays the history): per-profile
  scores and their history for the Enterprise health overview.
- crm.identity.v1: the copy of users, teams and tokens that authenticates calls.
"""

from __future__ import annotations

import asyncpg
from faststream.kafka import KafkaBroker

from crm_contracts import topics
from crm_platform.broker import dead_letter_sink, subscribe
from crm_platform.consumer import IdempotentConsumer
from crm_platform.identity.consumer import subscribe_identity
from crm_workspace.handlers.alerts import apply_health_events
from crm_workspace.handlers.associations import apply_association_events
from crm_workspace.handlers.health_scores import apply_score_changes
from crm_workspace.handlers.read_model import apply_record_events

SERVICE = "workspace"


def register(broker: KafkaBroker, pool: asyncpg.Pool, group_prefix: str = "") -> None:
    """group_prefix names the consumer groups apart (a test's own copy of the service)."""
    dead_letter = dead_letter_sink(broker)
    subscribe(broker, topics.RECORDS.name, IdempotentConsumer(
        name=f"{group_prefix}workspace-records", service=SERVICE, pool=pool,
        handle=apply_record_events, dead_letter=dead_letter))
    subscribe(broker, topics.ASSOCIATIONS.name, IdempotentConsumer(
        name=f"{group_prefix}workspace-associations", service=SERVICE, pool=pool,
        handle=apply_association_events, dead_letter=dead_letter))
    subscribe(broker, topics.HEALTHSCORES.name, IdempotentConsumer(
        name=f"{group_prefix}workspace-health-alerts", service=SERVICE, pool=pool,
        handle=apply_health_events, dead_letter=dead_letter))
    subscribe(broker, topics.HEALTHSCORES.name, IdempotentConsumer(
        name=f"{group_prefix}workspace-health-scores", service=SERVICE, pool=pool,
        handle=apply_score_changes, dead_letter=dead_letter))
    subscribe_identity(broker, pool, f"{group_prefix}{SERVICE}", dead_letter)
