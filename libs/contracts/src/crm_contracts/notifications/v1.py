"""Notification events, version 1 (topic crm.notifications.v1,
key {account}:notifications:{user}).

`NotificationDelivered` says one email reached the SMTP relay for one
recipient of one source event (the event that asked for it), so other
services and dashboards can follow delivery without reading the
notifications service's store.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from crm_contracts.envelope import EventData


class NotificationDelivered(EventData):
    EVENT_TYPE: ClassVar[str] = "crm.notification.delivered.v1"
    account_id: int
    user_id: int
    source_event_id: str
    source_event_type: str
    channel: str  # "email"
    recipient: str
    delivered_at: datetime


EVENTS: tuple[type[EventData], ...] = (NotificationDelivered,)
