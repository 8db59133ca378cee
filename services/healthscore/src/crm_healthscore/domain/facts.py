"""What scoring knows about one customer: its properties and its events.

The consumer keeps these per customer from record, association and engagement events
(R-HLTH-2); scoring reads nothing else. Times are timezone-aware (UTC).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Event:
    """One engagement or ticket associated to the customer.

    `type` is one of profile.EVENT_TYPES; `properties` are the event's own values as
    strings (duration_ms, outcome, score, ...). For `ticket_open`, `occurred_at` is when
    the ticket was opened and the facts hold only the tickets still open."""

    id: str
    type: str
    occurred_at: datetime
    properties: Mapping[str, str | None] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class CustomerFacts:
    customer_id: str
    properties: Mapping[str, str | None] = field(default_factory=dict)
    events: tuple[Event, ...] = ()
    segment_ids: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        # One fact per event id: a repeated delivery must replace, never add (R-HLTH-2).
        if len({event.id for event in self.events}) != len(self.events):
            raise ValueError(f"customer {self.customer_id}: facts repeat an event id")
