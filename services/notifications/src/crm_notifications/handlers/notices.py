"""The consumer's effect, in the consumer's transaction (with the event id, so a
redelivered event adds nothing):
- for an event the notices table knows: the in-app notifications and one
  sent-mail row per user (key `notice:{event}:{user}`);
- for a list email: one sent-mail row per recipient (key
  `{account}:{idempotency key}`, no user: the address is the contact's); a key
  already stored, by an earlier event, part or repeated send, is skipped, so
  it is never mailed twice."""

from __future__ import annotations

from typing import Any

from crm_contracts.envelope import CloudEvent
from crm_notifications.domain.messages import (
    LIST_EMAIL_TYPE,
    NOTICES_BY_EVENT_TYPE,
    Links,
    list_emails,
    notice_mail_key,
)
from crm_platform.consumer import BatchHandler


def notices_from(source_topic: str, links: Links) -> BatchHandler:
    async def handle(conn: Any, events: list[CloudEvent]) -> None:
        for event in events:
            if event.type == LIST_EMAIL_TYPE:
                await _store_list_emails(conn, source_topic, event)
                continue
            render = NOTICES_BY_EVENT_TYPE.get(event.type)
            if render is None:  # an event type of the topic we do not notify about
                continue
            for notice in render(event.data, links):
                await conn.execute(
                    "INSERT INTO notifications (account_id, user_id, source_event_id, kind,"
                    " title, body, link) VALUES ($1, $2, $3, $4, $5, $6, $7)"
                    " ON CONFLICT (source_event_id, user_id) DO NOTHING",
                    event.account_id, notice.user_id, event.id, notice.kind, notice.title,
                    notice.body, notice.link)
                await conn.execute(
                    "INSERT INTO sent_mail (mail_key, event_id, account_id, user_id,"
                    " source_topic, source_type, subject, body)"
                    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (mail_key) DO NOTHING",
                    notice_mail_key(event.id, notice.user_id), event.id, event.account_id,
                    notice.user_id, source_topic, event.type, notice.title, notice.body)

    return handle


async def _store_list_emails(conn: Any, source_topic: str, event: CloudEvent) -> None:
    await conn.executemany(
        "INSERT INTO sent_mail (mail_key, event_id, account_id, recipient, sender,"
        " source_topic, source_type, subject, body, html, delivery)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        " ON CONFLICT (mail_key) DO NOTHING",
        [(mail.mail_key, event.id, mail.account_id, mail.address, mail.sender,
          source_topic, event.type, mail.subject, mail.text, mail.html,
          dict(mail.delivery_fields)) for mail in list_emails(event.data)])
