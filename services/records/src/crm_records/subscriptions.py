"""Every topic the records service consumes, in one place: topic, consumer
group (the consumer's name), and what handles it."""

from __future__ import annotations

import asyncpg
from faststream.kafka import KafkaBroker

from crm_contracts import topics
from crm_platform.broker import dead_letter_sink, subscribe
from crm_platform.consumer import DeadLetterSink, IdempotentConsumer, subject_type_in
from crm_records.adapters.associations_pg import deal_automation_events, rollup_events
from crm_records.adapters.health_pg import health_score_events
from crm_records.adapters.marketing_pg import list_membership_events
from crm_records.domain.object_types import ENGAGEMENT_TYPES

SERVICE = "records"
LIST_MEMBERSHIP_BATCH = 2000


def list_membership_consumer(pool: asyncpg.Pool, dead_letter: DeadLetterSink,
                             group_prefix: str = "") -> IdempotentConsumer:
    """The handler applies only versions newer than the last it applied, so a redelivered
    event changes nothing without its id being stored."""
    return IdempotentConsumer(
        name=f"{group_prefix}records-list-membership", service=SERVICE, pool=pool,
        handle=list_membership_events, dead_letter=dead_letter,
        accepts=subject_type_in(["contacts"]), records_event_ids=False)


def register(broker: KafkaBroker, pool: asyncpg.Pool, group_prefix: str = "") -> None:
    """group_prefix names the consumer groups apart (a test's own copy of the service)."""
    dead_letter = dead_letter_sink(broker)
    # R-MKT-3: contact snapshots join and leave active lists, in batches of up to 2,000
    # when it is behind (a batch costs the same few statements whatever its size).
    subscribe(broker, topics.RECORDS.name,
              list_membership_consumer(pool, dead_letter, group_prefix),
              max_records=LIST_MEMBERSHIP_BATCH)
    # R-ROLL-1/2: engagement record events and engagement associations -> roll-ups.
    # R-LIFE-4..6: deal record events and deal associations -> lifecycle stages.
    # One group per topic (…-records, …-associations); the lag is
    # crm_consumer_event_lag_seconds{consumer=...} and crm_kafka_consumer_group_lag.
    # Each reacts to one kind of record only (on the associations topic: associations
    # *from* that kind, whose subject is `{fromType}/{id}/associations/...`); the
    # filter reads the subject header, so the other events are neither decoded nor
    # recorded.
    for name, handle, record_types in (
            ("records-rollups", rollup_events, ENGAGEMENT_TYPES),
            ("records-deal-automation", deal_automation_events, ["deals"])):
        for topic, suffix in ((topics.RECORDS.name, "records"),
                              (topics.ASSOCIATIONS.name, "associations")):
            subscribe(broker, topic, IdempotentConsumer(
                name=f"{group_prefix}{name}-{suffix}", service=SERVICE, pool=pool,
                handle=handle, dead_letter=dead_letter,
                accepts=subject_type_in(record_types)))
    # R-HLTH-2 / R-CSW-3: score changes -> health_score, health_status on the customer record.
    subscribe(broker, topics.HEALTHSCORES.name, IdempotentConsumer(
        name=f"{group_prefix}records-health-scores", service=SERVICE, pool=pool,
        handle=health_score_events, dead_letter=dead_letter))
