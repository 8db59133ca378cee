"""Export events, version 1 (topic crm.exports.v1, key {account}:exports:{account}).

Every event of one account carries the same key, so one account's export
requests sit on one partition in order: the exports service runs them one
after the other, while other accounts' exports run beside them.

- `ExportRequested`: a user asked for an export; the exports service stored
  the job in the same transaction and runs it when it consumes this event.
- `ExportFinished`: the file is ready; `download_url` is the signed link that
  works for 30 days (R-EXP-5). The notifications service emails it.
- `ExportFailed`: the job stopped; `reason` says why, for the user.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from crm_contracts.envelope import EventData


class ExportRequested(EventData):
    EVENT_TYPE: ClassVar[str] = "crm.export.requested.v1"
    export_id: str
    account_id: int
    user_id: int
    export_name: str
    format: str  # CSV, XLSX or XLS
    object_type: str
    requested_at: datetime


class ExportFinished(EventData):
    EVENT_TYPE: ClassVar[str] = "crm.export.finished.v1"
    export_id: str
    account_id: int
    user_id: int
    export_name: str
    format: str
    object_type: str
    row_count: int
    file_name: str
    download_url: str
    link_expires_at: datetime
    finished_at: datetime


class ExportFailed(EventData):
    EVENT_TYPE: ClassVar[str] = "crm.export.failed.v1"
    export_id: str
    account_id: int
    user_id: int
    export_name: str
    reason: str
    failed_at: datetime


EVENTS: tuple[type[EventData], ...] = (ExportRequested, ExportFinished, ExportFailed)


def export_key(account_id: int) -> str:
    """One key per account: its exports stay in order on one partition."""
    return f"{account_id}:exports:{account_id}"
