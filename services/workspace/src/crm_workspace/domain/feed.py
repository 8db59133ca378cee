"""The feed (R-CSW-9), pure: which association events it keeps, how a feed page
is asked for and paged, and how a follow-up becomes a records create body.

The feed shows engagements (calls, emails, meetings, notes, tasks) associated
to contacts that are associated to companies the user owns. Engagements are
ordinary records (crm.records.v1); which contact belongs to which company and
which engagement to which contact comes from crm.associations.v1.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

ADDED = "crm.association.added.v1"
REMOVED = "crm.association.removed.v1"

# Engagement type -> the property that names it in the feed.
TITLES = {"calls": "hs_call_title", "emails": "hs_email_subject",
          "meetings": "hs_meeting_title", "notes": "hs_note_body", "tasks": "hs_task_subject"}
ENGAGEMENT_TYPES = tuple(TITLES)
# The hosted CRM's engagement_to_contact association type ids (call_to_contact 194, ...).
ENGAGEMENT_TO_CONTACT = {"calls": 194, "emails": 198, "meetings": 200, "notes": 202,
                         "tasks": 204}
ORDERS = ("newest", "oldest")
MAX_LIMIT = 100


@dataclass(frozen=True)
class AssociationChange:
    """One direction of a pair: whether it is associated after the change, and when."""
    account_id: int
    from_type: str
    from_id: int
    to_type: str
    to_id: int
    associated: bool
    changed_at: datetime


def association_change(event_type: str, data: Mapping[str, Any]) -> AssociationChange | None:
    """An association event as the feed's read model keeps it; a removal that
    leaves other types (a label, the primary flag) still associates the pair."""
    if event_type == ADDED:
        associated = True
    elif event_type == REMOVED:
        associated = bool(data.get("remaining_types"))
    else:
        return None
    changed_at = data["changed_at"]
    if not isinstance(changed_at, datetime):
        changed_at = datetime.fromisoformat(str(changed_at).replace("Z", "+00:00"))
    return AssociationChange(int(data["account_id"]), data["from_object_type"],
                             int(data["from_record_id"]), data["to_object_type"],
                             int(data["to_record_id"]), associated, changed_at)


class BadFeedQuery(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class Cursor:
    """Where a page ended: the last item's activity time, type and id."""
    at: str
    object_type: str
    record_id: int


def encode_cursor(cursor: Cursor) -> str:
    raw = json.dumps([cursor.at, cursor.object_type, cursor.record_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str) -> Cursor:
    try:
        at, object_type, record_id = json.loads(
            base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        if not (isinstance(at, str) and isinstance(object_type, str)
                and isinstance(record_id, int)):
            raise ValueError
        return Cursor(at, object_type, record_id)
    except (ValueError, TypeError, binascii.Error):
        raise BadFeedQuery("after", f"not a cursor this feed returned: {text!r}") from None


@dataclass(frozen=True)
class FeedQuery:
    types: tuple[str, ...] = ENGAGEMENT_TYPES
    search: str | None = None
    order: str = "newest"
    limit: int = 20
    after: Cursor | None = None


def feed_query(types: str | None = None, q: str | None = None, order: str = "newest",
               limit: int = 20, after: str | None = None) -> FeedQuery:
    """Checks a feed request; `types` is a comma list of engagement types."""
    chosen = ENGAGEMENT_TYPES
    if types:
        chosen = tuple(dict.fromkeys(t.strip() for t in types.split(",") if t.strip()))
        unknown = [t for t in chosen if t not in TITLES]
        if unknown or not chosen:
            raise BadFeedQuery("types", f"unknown activity types {unknown}; choose among "
                                        f"{list(ENGAGEMENT_TYPES)}")
    if order not in ORDERS:
        raise BadFeedQuery("order", f"must be one of {list(ORDERS)}")
    if not 1 <= limit <= MAX_LIMIT:
        raise BadFeedQuery("limit", f"must be between 1 and {MAX_LIMIT}")
    search = (q or "").strip() or None
    return FeedQuery(chosen, search, order, limit, decode_cursor(after) if after else None)


def feed_item(object_type: str, record_id: int, at: str, contact_id: int,
              properties: Mapping[str, Any]) -> dict[str, Any]:
    return {"objectType": object_type, "id": str(record_id), "timestamp": at,
            "contactId": str(contact_id), "title": properties.get(TITLES[object_type]) or "",
            "properties": dict(properties)}


def next_cursor(items: list[dict[str, Any]], limit: int) -> str | None:
    """A full page may have more behind it: its last item is where the next starts."""
    if len(items) < limit:
        return None
    last = items[-1]
    return encode_cursor(Cursor(last["timestamp"], last["objectType"], int(last["id"])))


def follow_up_body(object_type: str, contact_id: str, properties: Mapping[str, Any],
                   now: str) -> dict[str, Any]:
    """The records create body of a follow-up engagement, associated to the contact;
    it happens now unless the caller said when (hs_timestamp)."""
    if object_type not in ENGAGEMENT_TO_CONTACT:
        raise BadFeedQuery("type", f"must be one of {list(ENGAGEMENT_TYPES)}")
    return {"properties": {"hs_timestamp": now, **properties}, "associations": [{
        "to": {"id": contact_id},
        "types": [{"associationCategory": "HUBSPOT_DEFINED",
                   "associationTypeId": ENGAGEMENT_TO_CONTACT[object_type]}]}]}
