"""Task views and bulk actions of the Actions tab (R-CSW-7), and the task part
of the Summary (R-CSW-3).

Tasks are records of type `tasks`: `hs_timestamp` is the due date,
`hs_task_status` COMPLETED marks one done, `hubspot_owner_id` its assignee.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from crm_workspace.domain.calendar import DueWindows

DUE = "hs_timestamp"
STATUS = "hs_task_status"
OWNER = "hubspot_owner_id"
SUBJECT = "hs_task_subject"
COMPLETED = "COMPLETED"
NOT_STARTED = "NOT_STARTED"
TASK_VIEWS = ("overdue", "due_today", "due_tomorrow", "all", "completed")
TASK_PROPERTIES = (SUBJECT, DUE, STATUS, OWNER, "hs_task_priority", "hs_task_type")
BULK_ACTIONS = ("mark_complete", "mark_incomplete", "assign", "edit_property", "delete")


class TaskRuleBroken(ValueError):
    pass


def stamp(moment: datetime) -> str:
    """The records service's datetime form; search compares these as text, so the
    form must match exactly (UTC, milliseconds, Z)."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def task_view_filters(view: str, owner_id: int, windows: DueWindows) -> list[dict[str, Any]]:
    """One filter group (AND) selecting the user's tasks of a standard task view."""
    mine = {"propertyName": OWNER, "operator": "EQ", "value": str(owner_id)}
    open_ = {"propertyName": STATUS, "operator": "NEQ", "value": COMPLETED}
    if view == "all":
        return [mine]
    if view == "completed":
        return [mine, {"propertyName": STATUS, "operator": "EQ", "value": COMPLETED}]
    if view == "overdue":
        return [mine, open_, {"propertyName": DUE, "operator": "LT",
                              "value": stamp(windows.today_start)}]
    bounds = {"due_today": (windows.today_start, windows.tomorrow_start),
              "due_tomorrow": (windows.tomorrow_start, windows.day_after_start)}.get(view)
    if bounds is None:
        raise TaskRuleBroken(f"view must be one of {', '.join(TASK_VIEWS)}")
    return [mine, open_, {"propertyName": DUE, "operator": "GTE", "value": stamp(bounds[0])},
            {"propertyName": DUE, "operator": "LT", "value": stamp(bounds[1])}]


def custom_task_view_body(view: Any, limit: int, after: str | None = None
                          ) -> dict[str, Any]:
    """The search body of a custom task view (a saved view of the tasks tab, R-CSW-7):
    its own filter groups and sorts as saved (soonest due first when it has none),
    with the task list's columns. Its filters decide whose tasks it shows."""
    if view.tab != "tasks":
        raise TaskRuleBroken(f"view {view.id} is a {view.tab} view, not a task view")
    body: dict[str, Any] = {"properties": list(dict.fromkeys([*TASK_PROPERTIES, *view.columns])),
                            "limit": limit,
                            "sorts": [dict(s) for s in view.sorts] or [
                                {"propertyName": DUE, "direction": "ASCENDING"}]}
    groups = [{"filters": list(g.get("filters", ()))} for g in view.filter_groups]
    if any(g["filters"] for g in groups):
        body["filterGroups"] = groups
    if after:
        body["after"] = after
    return body


def task_list_link(view: str, time_zone: str, user_id: int) -> str:
    """The query that opens the Actions tab filtered like a Summary count."""
    query = urlencode({"view": view, "timeZone": time_zone, "userId": user_id})
    return f"/workspace/v1/tasks?{query}"


def new_task_properties(subject: str, due: datetime | None, owner_id: int,
                        extra: Mapping[str, str | None] | None = None) -> dict[str, str | None]:
    if not subject.strip():
        raise TaskRuleBroken("a task needs a title")
    properties: dict[str, str | None] = {SUBJECT: subject, STATUS: NOT_STARTED,
                                         OWNER: str(owner_id)}
    if due:
        properties[DUE] = stamp(due)
    properties.update(extra or {})
    return properties


@dataclass(frozen=True)
class BulkAction:
    action: str
    owner_id: int | None = None       # assign
    property_name: str | None = None  # edit_property
    value: str | None = None

    def changes(self) -> dict[str, str | None] | None:
        """The property values each task gets; None for delete (an archive)."""
        if self.action == "mark_complete":
            return {STATUS: COMPLETED}
        if self.action == "mark_incomplete":
            return {STATUS: NOT_STARTED}
        if self.action == "assign":
            if self.owner_id is None:
                raise TaskRuleBroken("assign needs ownerId")
            return {OWNER: str(self.owner_id)}
        if self.action == "edit_property":
            if not self.property_name:
                raise TaskRuleBroken("edit_property needs propertyName")
            return {self.property_name: self.value}
        if self.action == "delete":
            return None
        raise TaskRuleBroken(f"action must be one of {', '.join(BULK_ACTIONS)}")


@dataclass
class BulkReport:
    """What a bulk action did, task by task: nothing is left unaccounted for."""

    total: int
    changed: list[str] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)

    @property
    def processed(self) -> int:
        return len(self.changed) + len(self.failed)

    @property
    def outcome(self) -> str:
        if self.processed < self.total:
            return "running"
        if not self.failed:
            return "succeeded"
        return "failed" if not self.changed else "partially_failed"

    def record_success(self, ids: Sequence[str]) -> None:
        self.changed.extend(ids)

    def record_failure(self, ids: Sequence[str], reason: str) -> None:
        self.failed.extend({"id": i, "reason": reason} for i in ids)

    def to_json(self) -> dict[str, Any]:
        return {"total": self.total, "processed": self.processed, "changed": self.changed,
                "failed": self.failed, "outcome": self.outcome}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BulkReport:
        return cls(int(data["total"]), list(data.get("changed", ())),
                   list(data.get("failed", ())))


def chunks(ids: Sequence[str], size: int = 100) -> list[list[str]]:
    """Batches the records API takes (at most 100 inputs)."""
    return [list(ids[i:i + size]) for i in range(0, len(ids), size)]
