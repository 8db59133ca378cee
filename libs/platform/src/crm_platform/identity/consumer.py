"""The identity consumer every service but records runs (R-AUTH-1, R-AUTH-2, R-BUS-3).

It keeps the service's own copy of who may do what (pg_directory tables) from
crm.identity.v1. The service's migrations create `IDENTITY_TABLES_SQL` and
`PROCESSED_EVENTS_TABLE_SQL`; its lifespan calls, before starting the broker:

    subscribe_identity(runtime.broker, runtime.pool, SERVICE,
                       dead_letter_sink(runtime.broker),
                       group_prefix=settings.consumer_group_prefix)

and its API reads the copy through `PgIdentityDirectory(runtime.pool)`.

Repeated events are skipped by the IdempotentConsumer (their ids are stored),
and an older version of a user arriving after a newer one changes nothing
(apply_user_event keeps the highest version).
"""

from __future__ import annotations

from typing import Any

from crm_contracts import topics
from crm_contracts.envelope import CloudEvent
from crm_contracts.identity import v1
from crm_platform.broker import subscribe
from crm_platform.consumer import DeadLetterSink, IdempotentConsumer
from crm_platform.identity.pg_directory import apply_token_revoked, apply_user_event
from crm_platform.identity.principal import AccessProfile


async def apply_identity_events(conn: Any, events: list[CloudEvent]) -> None:
    """A BatchHandler: apply each identity event in order, in the caller's transaction."""
    for event in events:
        if event.type == v1.UserUpserted.EVENT_TYPE:
            upserted = v1.UserUpserted.model_validate(event.data)
            profile = AccessProfile.from_json(upserted.profile.model_dump())
            await apply_user_event(conn, profile, upserted.version)
        elif event.type == v1.TokenRevoked.EVENT_TYPE:
            revoked = v1.TokenRevoked.model_validate(event.data)
            await apply_token_revoked(conn, revoked.token_id, revoked.expires_at)
        # AccountCreated, and types added later within v1, carry nothing a directory keeps.


def identity_consumer(pool: Any, service: str, dead_letter: DeadLetterSink, *,
                      group_prefix: str = "") -> IdempotentConsumer:
    return IdempotentConsumer(name=f"{group_prefix}{service}-identity", service=service,
                              pool=pool, handle=apply_identity_events, dead_letter=dead_letter)


def subscribe_identity(broker: Any, pool: Any, service: str, dead_letter: DeadLetterSink, *,
                       group_prefix: str = "") -> IdempotentConsumer:
    """Register the service's identity consumer (group `{prefix}{service}-identity`) on
    crm.identity.v1. Call before the broker starts."""
    consumer = identity_consumer(pool, service, dead_letter, group_prefix=group_prefix)
    subscribe(broker, topics.IDENTITY.name, consumer)
    return consumer
