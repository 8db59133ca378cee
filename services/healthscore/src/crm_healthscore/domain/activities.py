"""Engagement and ticket records as scoring events (R-HLTH-2).

Record events carry the full property snapshot under the hosted CRM's names; this maps
one snapshot onto a facts.Event of profile.EVENT_TYPES, or None when it does not count:

- calls -> call at hs_timestamp: duration_ms, status, direction
- meetings -> meeting at hs_meeting_start_time (else hs_timestamp): outcome, duration_ms
  (end - start)
- emails -> email at hs_timestamp: direction
- notes -> note at hs_timestamp
- tickets -> ticket_open at createdate: priority, pipeline_stage

Without the time property an event is placed at its record's creation.
A ticket counts only while open: no close date and not in a closed stage (the default
support pipeline's "4"; other pipelines' closed stages are not on the bus yet). Tasks
do not score. NPS answers and CSM sentiment have no record type yet, so no record maps
onto them (profiles may still hold such rules; they match nothing).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from .conditions import is_known, parse_value
from .facts import Event

ENGAGEMENT_TYPES = frozenset({"calls", "meetings", "emails", "notes"})
TICKETS = "tickets"
ACTIVITY_TYPES = ENGAGEMENT_TYPES | {TICKETS}
CLOSED_TICKET_STAGES = frozenset({"4"})


def _instant(raw: str | None) -> datetime | None:
    if not is_known(raw):
        return None
    try:
        return parse_value("datetime", raw)  # type: ignore[arg-type]
    except (ValueError, OverflowError):
        return None


def _when(properties: Mapping[str, str | None], created_at: datetime, *names: str) -> datetime:
    for name in names:
        found = _instant(properties.get(name))
        if found is not None:
            return found
    return created_at if created_at.tzinfo else created_at.replace(tzinfo=UTC)


def is_open_ticket(properties: Mapping[str, str | None]) -> bool:
    return (not is_known(properties.get("closed_date"))
            and properties.get("hs_pipeline_stage") not in CLOSED_TICKET_STAGES)


def event_from_record(object_type: str, record_id: int | str,
                      properties: Mapping[str, str | None], created_at: datetime) -> Event | None:
    """The scoring event this engagement or ticket is now, or None (not one, or closed)."""
    key = f"{object_type}:{record_id}"
    p = properties
    if object_type == "calls":
        return Event(key, "call", _when(p, created_at, "hs_timestamp"), {
            "duration_ms": p.get("hs_call_duration"), "status": p.get("hs_call_status"),
            "direction": p.get("hs_call_direction")})
    if object_type == "meetings":
        start = _instant(p.get("hs_meeting_start_time"))
        end = _instant(p.get("hs_meeting_end_time"))
        duration = str(int((end - start).total_seconds() * 1000)) if start and end else None
        return Event(key, "meeting", _when(p, created_at, "hs_meeting_start_time", "hs_timestamp"),
                     {"outcome": p.get("hs_meeting_outcome"), "duration_ms": duration})
    if object_type == "emails":
        return Event(key, "email", _when(p, created_at, "hs_timestamp"),
                     {"direction": p.get("hs_email_direction")})
    if object_type == "notes":
        return Event(key, "note", _when(p, created_at, "hs_timestamp"), {})
    if object_type == TICKETS and is_open_ticket(p):
        return Event(key, "ticket_open", _when(p, created_at, "createdate"), {
            "priority": p.get("hs_ticket_priority"),
            "pipeline_stage": p.get("hs_pipeline_stage")})
    return None
