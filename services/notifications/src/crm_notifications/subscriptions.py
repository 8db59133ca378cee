"""Every topic the notifications service consumes, in one place.

| topic               | group                              | event types used                   |
|---------------------|------------------------------------|------------------------------------|
| crm.exports.v1      | {prefix}notifications-exports      | export finished, export failed     |
| crm.healthscores.v1 | {prefix}notifications-healthscores | health alert raised                |
| crm.lists.v1        | {prefix}notifications-lists        | list email requested               |
| crm.identity.v1     | {prefix}notifications-identity     | user upserted (email), token revoked|

A new source is its topic added to SOURCE_TOPICS and its renderer to
domain.messages.NOTICES_BY_EVENT_TYPE.
"""

from __future__ import annotations

import asyncpg
from faststream.kafka import KafkaBroker

from crm_contracts import topics
from crm_contracts.topics import TopicSpec
from crm_notifications.domain.messages import Links
from crm_notifications.handlers.notices import notices_from
from crm_platform.broker import dead_letter_sink, subscribe
from crm_platform.consumer import IdempotentConsumer
from crm_platform.identity.consumer import subscribe_identity

SERVICE = "notifications"
SOURCE_TOPICS: tuple[TopicSpec, ...] = (topics.EXPORTS, topics.HEALTHSCORES, topics.LISTS)


def register(broker: KafkaBroker, pool: asyncpg.Pool, links: Links,
             group_prefix: str = "") -> None:
    dead_letter = dead_letter_sink(broker)
    for topic in SOURCE_TOPICS:
        area = topic.name.split(".")[1]
        subscribe(broker, topic.name, IdempotentConsumer(
            name=f"{group_prefix}{SERVICE}-{area}", service=SERVICE, pool=pool,
            handle=notices_from(topic.name, links), dead_letter=dead_letter))
    subscribe_identity(broker, pool, SERVICE, dead_letter, group_prefix=group_prefix)
