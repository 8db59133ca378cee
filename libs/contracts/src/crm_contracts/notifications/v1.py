"""Notification events, version 1 (topic crm.notifications.v1,
key {account}:notifications:{user}).

`NotificationDelivered` says one email reached the SMTP relay for one
recipient of one source event (the event that asked for it), so other
services and dashboards can follow delivery without reading the
notifications service's store. `NotificationFailed` says an email was given
up on after its last retry (and parked on the source topic's dead-letter
topic), so a consumer can count failures.

For an email to a list (source `crm.list.email.requested.v1`, R-MKT-3) the
list fields are set: `list_id`, `send_id`, `contact_id`, `engagement_id` (the
email engagement the records service logged) and `idempotency_key`, one event
per recipient; `user_id` is then the user who sent to the list (0 when the
request named none). For other notifications they are None.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from crm_contracts.envelope import EventData


class NotificationOutcome(EventData):
    account_id: int
    user_id: int
    source_event_id: str
    source_event_type: str
    channel: str  # "email"
    list_id: int | None = None
    send_id: str | None = None
    contact_id: int | None = None
    engagement_id: int | None = None
    idempotency_key: str | None = None


class NotificationDelivered(NotificationOutcome):
    EVENT_TYPE: ClassVar[str] = "crm.notification.delivered.v1"
    recipient: str
    delivered_at: datetime


class NotificationFailed(NotificationOutcome):
    EVENT_TYPE: ClassVar[str] = "crm.notification.failed.v1"
    recipient: str | None = None  # None when no address was known
    error: str
    attempts: int
    failed_at: datetime


EVENTS: tuple[type[EventData], ...] = (NotificationDelivered, NotificationFailed)
