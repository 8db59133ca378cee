"""Activity roll-ups derived from engagement events (R-ROLL-1, R-ROLL-2).

- `notes_last_contacted` (Last contacted): the newest call, sales email (one
  we sent or forwarded), meeting, or chat/message on the record.
- `notes_last_updated` (Last activity date): the newest note, call, email
  (either direction), meeting, message, or task — a task counts once it is
  completed, at its completion time, since its hs_timestamp is a due date.

A roll-up is the max() of the times seen, so events arriving late or twice
never move a date backwards or count twice: applying the same engagement again
changes nothing.

"communications" are the hosted CRM's messages (SMS, WhatsApp, LinkedIn) and
"conversations" its chats; they count when a consumer feeds them here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from crm_records.domain.properties import format_datetime, is_blank, parse_datetime

LAST_CONTACTED = "notes_last_contacted"
LAST_ACTIVITY = "notes_last_updated"
ROLLUP_PROPERTIES = (LAST_CONTACTED, LAST_ACTIVITY)

MESSAGE_TYPES = frozenset({"communications", "conversations"})
CONTACTED_TYPES = frozenset({"calls", "emails", "meetings"}) | MESSAGE_TYPES
ACTIVITY_TYPES = frozenset({"notes", "calls", "emails", "meetings", "tasks"}) | MESSAGE_TYPES

OUTGOING_EMAIL_DIRECTIONS = frozenset({"EMAIL", "FORWARDED_EMAIL"})
# Engagements in these states did not happen (yet), so they touch no roll-up.
_DID_NOT_HAPPEN: Mapping[str, tuple[str, frozenset[str]]] = {
    "emails": ("hs_email_status", frozenset({"SCHEDULED", "FAILED"})),
    "calls": ("hs_call_status", frozenset({"CANCELED", "FAILED", "QUEUED"})),
    "meetings": ("hs_meeting_outcome", frozenset({"CANCELED"})),
}


def _happened(engagement_type: str, properties: Mapping[str, str | None]) -> bool:
    if engagement_type not in _DID_NOT_HAPPEN:
        return True
    status_property, not_happened = _DID_NOT_HAPPEN[engagement_type]
    return properties.get(status_property) not in not_happened


def _activity_time(engagement_type: str, properties: Mapping[str, str | None]) -> str | None:
    if engagement_type == "tasks":
        if properties.get("hs_task_status") != "COMPLETED":
            return None
        return properties.get("hs_task_completion_date") or properties.get("hs_lastmodifieddate")
    return properties.get("hs_timestamp") or properties.get("hs_createdate")


def counts_as_contacted(engagement_type: str, properties: Mapping[str, str | None]) -> bool:
    if engagement_type not in CONTACTED_TYPES or not _happened(engagement_type, properties):
        return False
    if engagement_type == "emails":
        return properties.get("hs_email_direction") in OUTGOING_EMAIL_DIRECTIONS
    return True


def counts_as_activity(engagement_type: str, properties: Mapping[str, str | None]) -> bool:
    return (engagement_type in ACTIVITY_TYPES and _happened(engagement_type, properties)
            and _activity_time(engagement_type, properties) is not None)


def rollup_candidates(engagement_type: str,
                      properties: Mapping[str, str | None]) -> dict[str, datetime]:
    """The roll-up properties this engagement may advance, each with its time."""
    raw_time = _activity_time(engagement_type, properties)
    if is_blank(raw_time):
        return {}
    try:
        moment = parse_datetime(raw_time)
    except ValueError:
        return {}
    candidates = {}
    if counts_as_contacted(engagement_type, properties):
        candidates[LAST_CONTACTED] = moment
    if counts_as_activity(engagement_type, properties):
        candidates[LAST_ACTIVITY] = moment
    return candidates


def advance_rollup(current_value: str | None, candidate_time: datetime | str) -> str:
    """The later of the stored value and the candidate, in stored datetime form."""
    candidate = parse_datetime(candidate_time)
    if is_blank(current_value):
        return format_datetime(candidate)
    return format_datetime(max(parse_datetime(current_value), candidate))


def apply_engagement(record_values: Mapping[str, str | None], engagement_type: str,
                     engagement_properties: Mapping[str, str | None]) -> dict[str, str]:
    """Only the roll-up values that change; empty when the engagement adds nothing new."""
    changes = {}
    for name, moment in rollup_candidates(engagement_type, engagement_properties).items():
        current = record_values.get(name)
        if is_blank(current) or parse_datetime(current) < moment:
            changes[name] = advance_rollup(current, moment)
    return changes
