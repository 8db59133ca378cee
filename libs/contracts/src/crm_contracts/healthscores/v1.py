"""Health score events, version 1 (topic crm.healthscores.v1,
key {account}:{customerObjectType}:{customerId}, so one customer's score moves stay in
order).

- `HealthScoreChanged`: a customer's score or band under one live profile moved
  (R-HLTH-2, R-HLTH-4). `old_*` are None on a first score, `new_*` None when the
  customer left the profile's segments. `cause` says why (R-HLTH-6): `event:<id>` (the
  record, association or engagement event that changed a fact), `time` (a window edge
  or decay step passed) or `profile:<id>` (the profile was published). The records
  service writes `new_score`/`new_band` onto the customer record (health_score,
  health_status).
- `HealthAlertRaised`: the change moved the customer to another band; the alert is for
  the customer's CSM (`user_id`, None when the customer has none) and expires 14 days
  after it fired (R-HLTH-3, R-CSW-3). Notifications and the workspace consume it.

Bands are `at_risk`, `neutral`, `healthy`. Within v1 only optional fields may be added.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from crm_contracts.envelope import EventData


class HealthScoreChanged(EventData):
    EVENT_TYPE: ClassVar[str] = "crm.healthscore.changed.v1"
    account_id: int
    profile_id: str
    profile_name: str
    customer_object_type: str
    customer_id: int
    old_score: int | None
    new_score: int | None
    old_band: str | None
    new_band: str | None
    cause: str
    changed_at: datetime


class HealthAlertRaised(EventData):
    EVENT_TYPE: ClassVar[str] = "crm.healthscore.alert.raised.v1"
    alert_id: str
    account_id: int
    user_id: int | None
    profile_id: str
    profile_name: str
    customer_object_type: str
    customer_id: int
    old_band: str
    new_band: str
    score: int
    cause: str
    fired_at: datetime
    expires_at: datetime


EVENTS: tuple[type[EventData], ...] = (HealthScoreChanged, HealthAlertRaised)


def customer_key(account_id: int, object_type: str, customer_id: int) -> str:
    return f"{account_id}:{object_type}:{customer_id}"
