"""List events, version 1 (topic crm.lists.v1).

Membership events are keyed by the record (`{account}:contacts:{id}`), so one
contact's joins and leaves stay in order; list-email requests by the list
(`{account}:lists:{listId}`).

- `ListMembershipJoined` / `ListMembershipLeft`: a contact entered or left a
  list, by hand (MANUAL) or because its properties now match, or no longer
  match, an active list's filters (DYNAMIC). `record_version` is the record
  version that decided it; `record_changed_at` when that version was written,
  so a consumer can measure the membership lag itself.
- `ListEmailRequested`: a user sent an email to a list. The records service
  already stored one email engagement per recipient; the notifications service
  delivers one message per recipient over SMTP, at most once per
  `recipients[].idempotency_key` however often the event (or the send) is
  repeated. Contacts that were skipped (no address, unsubscribed,
  hard-bounced) are not in `recipients`. One send may be split over several
  events (`part`, `parts`) when the list is large.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from crm_contracts.envelope import EventData


class ListMembershipChanged(EventData):
    account_id: int
    list_id: int
    object_type: str  # "contacts"
    record_id: int
    processing_type: str  # MANUAL (static) or DYNAMIC (active)
    record_version: int | None = None
    record_changed_at: datetime | None = None
    changed_at: datetime


class ListMembershipJoined(ListMembershipChanged):
    EVENT_TYPE: ClassVar[str] = "crm.list.membership.joined.v1"


class ListMembershipLeft(ListMembershipChanged):
    EVENT_TYPE: ClassVar[str] = "crm.list.membership.left.v1"


class ListEmailRecipient(BaseModel):
    model_config = ConfigDict(frozen=True)
    contact_id: int
    address: str
    engagement_id: int  # the email engagement logged to this address (R-REC-8)
    idempotency_key: str  # deliver at most once per key


class ListEmailRequested(EventData):
    EVENT_TYPE: ClassVar[str] = "crm.list.email.requested.v1"
    account_id: int
    user_id: int | None = None
    list_id: int
    send_id: str
    subject: str
    html: str
    text: str | None = None
    from_address: str
    recipients: list[ListEmailRecipient]
    part: int = 1
    parts: int = 1
    requested_at: datetime


EVENTS: tuple[type[EventData], ...] = (ListMembershipJoined, ListMembershipLeft,
                                       ListEmailRequested)


def list_key(account_id: int, list_id: int) -> str:
    return f"{account_id}:lists:{list_id}"
