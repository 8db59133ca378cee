"""How record events become rows of the workspace's read model (pure).

Every record event carries the full property snapshot and the version, so a
row is simply the newest snapshot. A user-type value is a user id: every
change that sets a property to a user id is kept as an assignment with its
time, which the *Assigned in the last 30 days* view reads (R-CSW-4).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

CREATED = "crm.record.created.v1"
UPDATED = "crm.record.updated.v1"
DELETED = "crm.record.deleted.v1"
MERGED = "crm.record.merged.v1"
SNAPSHOT_EVENTS = {CREATED, UPDATED, "crm.record.archived.v1", "crm.record.restored.v1", MERGED}


@dataclass(frozen=True)
class Snapshot:
    account_id: int
    object_type: str
    record_id: int
    version: int
    owner_id: int | None
    properties: Mapping[str, Any]
    archived: bool
    created_at: datetime
    updated_at: datetime

    # Typed copies of the values the Summary filters on (indexed columns).
    @property
    def scheduled_at(self) -> datetime | None:
        """A task's due time or a meeting's start, as the schedule and counts read it."""
        return parsed_datetime(self.properties.get(SCHEDULED_AT.get(self.object_type, "")))

    @property
    def task_status(self) -> str | None:
        return self.properties.get("hs_task_status") if self.object_type == "tasks" else None

    @property
    def health_score(self) -> float | None:
        return parsed_number(self.properties.get("health_score"))

    @property
    def health_band(self) -> str | None:
        return self.properties.get("health_status")


# The property holding the time a record is scheduled at, per type.
SCHEDULED_AT = {"tasks": "hs_timestamp", "meetings": "hs_meeting_start_time"}
# The records service's datetime form; the migration's backfill accepts the same.
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z")
_NUMBER = re.compile(r"-?\d{1,9}(\.\d+)?")


def parsed_datetime(value: Any) -> datetime | None:
    if not isinstance(value, str) or not _DATETIME.fullmatch(value):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def parsed_number(value: Any) -> float | None:
    text = str(value) if isinstance(value, int | float) else value
    if not isinstance(text, str) or not _NUMBER.fullmatch(text):
        return None
    return float(text)


@dataclass(frozen=True)
class Assignment:
    account_id: int
    object_type: str
    record_id: int
    property: str
    user_id: int
    assigned_at: datetime


def as_user_id(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) < 19 else None


def snapshot(event_type: str, data: Mapping[str, Any]) -> Snapshot | None:
    if event_type not in SNAPSHOT_EVENTS:
        return None
    properties = data.get("properties") or {}
    return Snapshot(int(data["account_id"]), data["object_type"], int(data["record_id"]),
                    int(data["version"]), as_user_id(properties.get("hubspot_owner_id")),
                    properties, bool(data.get("archived")), _time(data["created_at"]),
                    _time(data["updated_at"]))


def _time(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(
        str(value).replace("Z", "+00:00"))


def newest(snapshots: Iterable[Snapshot]) -> list[Snapshot]:
    """One snapshot per record: the highest version in the batch."""
    best: dict[tuple[int, str, int], Snapshot] = {}
    for s in snapshots:
        key = (s.account_id, s.object_type, s.record_id)
        if key not in best or best[key].version < s.version:
            best[key] = s
    return list(best.values())


def assignments(event_type: str, data: Mapping[str, Any], time: datetime) -> list[Assignment]:
    """Properties set to a user id by this event (at creation or by a change)."""
    if event_type == CREATED:
        pairs = [(name, value) for name, value in (data.get("properties") or {}).items()
                 if name not in ("hs_object_id",)]
    elif event_type == UPDATED:
        pairs = [(c["name"], c.get("new_value")) for c in data.get("changes") or ()]
    else:
        return []
    found = []
    for name, value in pairs:
        user_id = as_user_id(value)
        if user_id is not None:
            found.append(Assignment(int(data["account_id"]), data["object_type"],
                                    int(data["record_id"]), name, user_id, time))
    return found


def forgotten(event_type: str, data: Mapping[str, Any]) -> tuple[int, str, int] | None:
    """The record a deletion or a merge removes from the read model."""
    if event_type == DELETED:
        return int(data["account_id"]), data["object_type"], int(data["record_id"])
    if event_type == MERGED:
        return int(data["account_id"]), data["object_type"], int(data["merged_record_id"])
    return None
