"""Record events, version 1 (topic crm.records.v1, key {account}:{type}:{id}).

Every event but `deleted` carries the record's full property snapshot and its
version, so a consumer can rebuild its read model from any single event and
ignore one older than what it holds: out-of-order and repeated deliveries leave
read models exact. `updated` also lists the changes with old and new values.

Within v1 only optional fields may be added (tests compare the JSON Schemas
with the snapshots under libs/contracts/schemas).
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from crm_contracts.envelope import EventData


class PropertyChange(BaseModel):
    model_config = ConfigDict(frozen=True)
    name: str
    old_value: str | None
    new_value: str | None
    source: str
    source_id: str | None = None
    user_id: int | None = None


class RecordSnapshot(EventData):
    account_id: int
    object_type: str
    record_id: int
    version: int
    properties: dict[str, str | None]
    archived: bool = False
    created_at: datetime
    updated_at: datetime


class RecordCreated(RecordSnapshot):
    EVENT_TYPE: ClassVar[str] = "crm.record.created.v1"
    source: str
    source_id: str | None = None
    user_id: int | None = None


class RecordUpdated(RecordSnapshot):
    EVENT_TYPE: ClassVar[str] = "crm.record.updated.v1"
    changes: list[PropertyChange]


class RecordArchived(RecordSnapshot):
    EVENT_TYPE: ClassVar[str] = "crm.record.archived.v1"


class RecordRestored(RecordSnapshot):
    EVENT_TYPE: ClassVar[str] = "crm.record.restored.v1"


class RecordMerged(RecordSnapshot):
    """Published for the primary (snapshot after the merge); the secondary is gone."""

    EVENT_TYPE: ClassVar[str] = "crm.record.merged.v1"
    merged_record_id: int


class RecordDeleted(EventData):
    """Permanent (GDPR) deletion: every service forgets the record and its history."""

    EVENT_TYPE: ClassVar[str] = "crm.record.deleted.v1"
    model_config = ConfigDict(frozen=True)
    account_id: int
    object_type: str
    record_id: int
    version: int
    deleted_at: datetime


EVENTS: tuple[type[EventData], ...] = (
    RecordCreated, RecordUpdated, RecordArchived, RecordRestored, RecordMerged, RecordDeleted,
)
