"""The consumer's effect: for each event the notices table knows, store the
in-app notifications and one sent-mail record per recipient, in the consumer's
transaction (with the event id, so a redelivered event adds nothing)."""

from __future__ import annotations

from typing import Any

from crm_contracts.envelope import CloudEvent
from crm_platform.consumer import BatchHandler

from crm_notifications.domain.messages import NOTICES_BY_EVENT_TYPE


def notices_from(source_topic: str) -> BatchHandler:
    async def handle(conn: Any, events: list[CloudEvent]) -> None:
        for event in events:
            render = NOTICES_BY_EVENT_TYPE.get(event.type)
            if render is None:  # an event type of the topic we do not notify about
                continue
            for notice in render(event.data):
                await conn.execute(
                    "INSERT INTO notifications (account_id, user_id, source_event_id, kind,"
                    " title, body, link) VALUES ($1, $2, $3, $4, $5, $6, $7)"
                    " ON CONFLICT (source_event_id, user_id) DO NOTHING",
                    event.account_id, notice.user_id, event.id, notice.kind, notice.title,
                    notice.body, notice.link)
                await conn.execute(
                    "INSERT INTO sent_mail (event_id, account_id, user_id, source_topic,"
                    " source_type, subject, body) VALUES ($1, $2, $3, $4, $5, $6, $7)"
                    " ON CONFLICT (event_id, user_id) DO NOTHING",
                    event.id, event.account_id, notice.user_id, source_topic, event.type,
                    notice.title, notice.body)

    return handle
