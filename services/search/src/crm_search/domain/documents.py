"""From record events to index documents: pure.

Every record event but `deleted` carries the whole snapshot and the record's
version, so each one maps to the complete document; of several documents for
one record, the highest version wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

SNAPSHOT_EVENTS = frozenset({
    "crm.record.created.v1", "crm.record.updated.v1", "crm.record.archived.v1",
    "crm.record.restored.v1", "crm.record.merged.v1",
})
DELETED_EVENT = "crm.record.deleted.v1"

# Free text (the `query` of a search) looks at these properties of each type,
# as the hosted CRM documents; other types use their name-like properties.
DEFAULT_SEARCHABLE: Mapping[str, tuple[str, ...]] = {
    "contacts": ("firstname", "lastname", "email", "phone", "hs_additional_emails", "fax",
                 "mobilephone", "company", "hs_marketable_until_renewal"),
    "companies": ("name", "domain", "website", "phone", "hs_additional_domains"),
    "deals": ("dealname", "pipeline", "dealstage", "description", "dealtype"),
    "tickets": ("subject", "content", "hs_pipeline_stage", "hs_ticket_category", "hs_ticket_id"),
    "services": ("hs_name", "hs_pipeline_stage"),
}
FALLBACK_SEARCHABLE = ("name", "hs_name", "subject", "hs_task_subject", "hs_call_title",
                       "hs_note_body", "hs_email_subject", "hs_meeting_title")


@dataclass(frozen=True)
class Document:
    account_id: int
    object_type: str
    record_id: int
    version: int
    properties: dict[str, Any]
    archived: bool
    deleted: bool
    created_at: datetime
    updated_at: datetime

    @property
    def key(self) -> tuple[int, str, int]:
        return (self.account_id, self.object_type, self.record_id)

    @property
    def owner_id(self) -> int | None:
        """The owner as a user id (visibility scopes compare it with user ids)."""
        owner = self.properties.get("hubspot_owner_id")
        return int(owner) if isinstance(owner, str) and owner.isdigit() else None

    def search_text(self) -> str:
        names = DEFAULT_SEARCHABLE.get(self.object_type, FALLBACK_SEARCHABLE)
        return " ".join(str(self.properties[n]) for n in names if self.properties.get(n))


def document_from_event(event_type: str, data: Mapping[str, Any],
                        occurred_at: datetime) -> Document | None:
    if event_type in SNAPSHOT_EVENTS:
        return Document(data["account_id"], data["object_type"], int(data["record_id"]),
                        int(data["version"]), dict(data["properties"]),
                        bool(data.get("archived", False)), False,
                        _time(data["created_at"]), _time(data["updated_at"]))
    if event_type == DELETED_EVENT:
        return Document(data["account_id"], data["object_type"], int(data["record_id"]),
                        int(data["version"]), {}, True, True, occurred_at, occurred_at)
    return None


def merged_away(event_type: str, data: Mapping[str, Any]) -> tuple[int, str, int] | None:
    """The secondary record a merge made disappear, if this event is a merge."""
    if event_type != "crm.record.merged.v1":
        return None
    return (data["account_id"], data["object_type"], int(data["merged_record_id"]))


def newest_per_record(documents: Iterable[Document]) -> list[Document]:
    newest: dict[tuple[int, str, int], Document] = {}
    for doc in documents:
        if doc.key not in newest or doc.version > newest[doc.key].version:
            newest[doc.key] = doc
    return list(newest.values())


def _time(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(
        str(value).replace("Z", "+00:00"))
