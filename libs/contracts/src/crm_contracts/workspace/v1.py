"""Customer success workspace events, version 1 (topic crm.workspace.v1).

- `WorkspaceSettingsChanged` (key {account}:workspace_settings:{account}):
  the account's full workspace settings after a change, with their version,
  so health scores and exports learn which object represents customers and
  which property names the CSM from any single event (R-CSW-2).
- `ViewSaved` / `ViewDeleted` (key {account}:workspace_views:{view id}): a
  saved view of a workspace tab was created, changed or deleted (R-CSW-4);
  exports use it to export a view with its filters.

Within v1 only optional fields may be added.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from crm_contracts.envelope import EventData


class WorkspaceSettingsChanged(EventData):
    EVENT_TYPE: ClassVar[str] = "crm.workspace.settings.changed.v1"
    account_id: int
    version: int
    changed_by_user_id: int
    changed_at: datetime
    # {"customers": {...}, "services": {...}, "revenue": {...}} as the API shows them.
    settings: dict[str, Any]


class ViewSaved(EventData):
    EVENT_TYPE: ClassVar[str] = "crm.workspace.view.saved.v1"
    account_id: int
    view_id: str
    tab: str  # customers, services, revenue, tasks
    object_type: str
    name: str
    sharing: str  # private or everyone
    owner_user_id: int | None = None
    filter_groups: list[dict[str, Any]]
    columns: list[str]
    version: int
    saved_at: datetime


class ViewDeleted(EventData):
    EVENT_TYPE: ClassVar[str] = "crm.workspace.view.deleted.v1"
    account_id: int
    view_id: str
    deleted_at: datetime


EVENTS: tuple[type[EventData], ...] = (WorkspaceSettingsChanged, ViewSaved, ViewDeleted)
