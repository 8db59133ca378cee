"""A record's timeline (R-REC-7, R-REC-8, R-REC-9).

The timeline of a record is every engagement associated to it, newest first;
a contact's also holds every email engagement logged to or from one of its
current addresses (`email`, `hs_additional_emails`), wherever and whenever it
was logged: emails belong to the address, not to the contact (R-REC-8). The
address index (`email_participants`) is kept by the store on every write of an
email engagement, so it also covers emails logged before the contact existed.

Email HTML is sanitised when the timeline is read (R-REC-9): the record keeps
the body as it was logged (it may be needed as sent), and what the timeline
shows has no script or event handler, images intact.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

from crm_platform.identity.principal import Principal
from crm_records.domain.engagements import email_addresses, sanitise_email_html
from crm_records.domain.record import Record
from crm_records.domain.timeline import page_after, timeline_position
from crm_records.handlers.records import RecordNotFound
from crm_records.handlers.visibility import may_view

ADDRESS_PROPERTIES = ("email", "hs_additional_emails")
HTML_PROPERTIES = ("hs_email_html",)


class TimelineStore(Protocol):
    async def get_record(self, account_id: int, object_type: str,
                         record_id: int) -> Record | None: ...
    async def associated_engagements(self, account_id: int, object_type: str,
                                     record_id: int) -> list[Record]: ...
    async def emails_logged_to(self, account_id: int,
                               addresses: Sequence[str]) -> list[Record]: ...


TimelineUnitOfWork = Callable[[], AbstractAsyncContextManager[TimelineStore]]


@dataclass(frozen=True)
class TimelineItem:
    id: int
    object_type: str
    properties: dict[str, str | None]
    record: Record


@dataclass(frozen=True)
class TimelinePage:
    items: list[TimelineItem]
    next_after: str | None


def encode_cursor(position: tuple[int, int]) -> str:
    return f"{position[0]}_{position[1]}"


def decode_cursor(after: str | None) -> tuple[int, int] | None:
    """None for the first page; ValueError for a cursor we did not write."""
    if not after:
        return None
    moment, _, record_id = after.rpartition("_")
    return int(moment), int(record_id)


def contact_addresses(record: Record) -> list[str]:
    return [a for name in ADDRESS_PROPERTIES for a in email_addresses(record.properties.get(name))]


def shown(record: Record) -> TimelineItem:
    properties = dict(record.properties)
    for name in HTML_PROPERTIES:
        if properties.get(name):
            properties[name] = sanitise_email_html(properties[name] or "")
    return TimelineItem(record.record_id, record.object_type, properties, record)


class TimelineHandler:
    def __init__(self, unit_of_work: TimelineUnitOfWork) -> None:
        self.unit_of_work = unit_of_work

    async def timeline(self, account_id: int, object_type: str, record_id: int, *,
                       after: str | None = None, limit: int = 20,
                       viewer: Principal | None = None) -> TimelinePage:
        """R-AUTH-3: a record the viewer may not see has no timeline (404), and an
        engagement they may not see never appears on one."""
        cursor = decode_cursor(after)
        async with self.unit_of_work() as store:
            record = await store.get_record(account_id, object_type, record_id)
            if record is None or not may_view(viewer, record):
                raise RecordNotFound(object_type, [record_id])
            engagements = await store.associated_engagements(account_id, object_type,
                                                             record_id)
            if object_type == "contacts":
                addresses = contact_addresses(record)
                if addresses:
                    engagements += await store.emails_logged_to(account_id, addresses)
        unique = {(e.object_type, e.record_id): e for e in engagements
                  if not e.archived and may_view(viewer, e)}
        items = [shown(p.record) for p in page_after(
            [_Positioned(e) for e in unique.values()], cursor, limit + 1)]
        page, more = items[:limit], len(items) > limit
        next_after = encode_cursor(timeline_position(_Positioned(page[-1].record))) \
            if more else None
        return TimelinePage(page, next_after)


@dataclass(frozen=True)
class _Positioned:
    """A record seen as domain.timeline's item (id + properties)."""

    record: Record

    @property
    def id(self) -> int:
        return self.record.record_id

    @property
    def properties(self) -> dict[str, str | None]:
        return self.record.properties
