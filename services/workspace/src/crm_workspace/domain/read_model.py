"""How record events become rows of the workspace's read model (pure).

Every record event carries the full property snapshot and the version, so a
row is simply the newest snapshot. A user-type value is a user id: every
change that sets a property to a user id is kept as an assignment with its
time, which the *Assigned in the last 30 days* view reads (R-CSW-4).
"""

from __future__ import annotations

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
