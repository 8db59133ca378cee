"""A record and how property changes apply to it: pure, no I/O.

Values are kept as the hosted CRM shows them: strings, or None when blank.
Every applied change bumps the record's version by one; consumers use the
version to ignore events older than what they already hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

# Set by the platform on every write, never by a client.
SYSTEM_PROPERTIES = ("hs_object_id", "createdate", "lastmodifieddate", "hs_lastmodifieddate")


class Change(NamedTuple):
    """One property's change. A tuple, not a dataclass: a batch create makes one per
    property of every record (~1,100 for 100 contacts), and a frozen dataclass costs
    twice as much to build."""

    name: str
    old_value: str | None
    new_value: str | None


@dataclass(frozen=True)
class Record:
    account_id: int
    object_type: str
    record_id: int
    version: int
    properties: dict[str, str | None]
    created_at: datetime
    updated_at: datetime
    archived: bool = False
    archived_at: datetime | None = None
    merged_into: int | None = None
    changes: tuple[Change, ...] = field(default=(), compare=False)


@lru_cache(maxsize=16)  # one `now` stamps a whole batch
def iso_millis(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_record(account_id: int, object_type: str, record_id: int,
               values: dict[str, str | None], now: datetime) -> Record:
    stamp = iso_millis(now)
    properties: dict[str, str | None] = {k: v for k, v in values.items()
                                         if v not in (None, "")}
    properties.update(hs_object_id=str(record_id), createdate=stamp, lastmodifieddate=stamp)
    if object_type != "contacts":
        properties["hs_lastmodifieddate"] = stamp
    changes = tuple(Change(k, None, v) for k, v in properties.items())
    return Record(account_id, object_type, record_id, 1, properties, now, now, changes=changes)


def apply_values(record: Record, values: dict[str, str | None], now: datetime) -> Record:
    """The record after setting `values`; unchanged values make no change and no
    new version. An empty string clears a property, as in the hosted API."""
    changes = []
    properties = dict(record.properties)
    for name, value in values.items():
        new = None if value in (None, "") else value
        if properties.get(name) != new:
            changes.append(Change(name, properties.get(name), new))
            if new is None:
                properties.pop(name, None)
            else:
                properties[name] = new
    if not changes:
        return replace(record, changes=())
    stamp = iso_millis(now)
    modified = ["lastmodifieddate"] + (["hs_lastmodifieddate"]
                                       if "hs_lastmodifieddate" in properties else [])
    for system in modified:
        changes.append(Change(system, properties.get(system), stamp))
        properties[system] = stamp
    return replace(record, properties=properties, version=record.version + 1, updated_at=now,
                   changes=tuple(changes))


def archive(record: Record, now: datetime) -> Record:
    return replace(record, archived=True, archived_at=now, version=record.version + 1,
                   updated_at=now, changes=())


def restore(record: Record, now: datetime) -> Record:
    return replace(record, archived=False, archived_at=None, version=record.version + 1,
                   updated_at=now, changes=())
