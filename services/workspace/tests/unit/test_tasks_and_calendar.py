"""Task views, buckets in the user's time zone, bulk reports and the schedule
windows (R-CSW-3, R-CSW-7, R-CSW-8)."""

from datetime import UTC, date, datetime

import pytest

from crm_workspace.domain.calendar import (
    UnknownTimeZone,
    due_bucket,
    due_windows,
    schedule_window,
    zone,
)
from crm_workspace.domain.tasks import (
    BulkAction,
    BulkReport,
    TaskRuleBroken,
    chunks,
    task_list_link,
    task_view_filters,
)

PARIS = zone("Europe/Paris")
NOW = datetime(2025, 3, 10, 22, 30, tzinfo=UTC)  # 23:30 on Monday 10 March in Paris


def test_due_buckets_follow_the_users_day_not_utc():
    # R-CSW-3: today, overdue and tomorrow in the user's IANA time zone
    windows = due_windows(NOW, PARIS)
    assert windows.today_start == datetime(2025, 3, 9, 23, 0, tzinfo=UTC)
    assert due_bucket(datetime(2025, 3, 9, 22, 59, tzinfo=UTC), False, windows) == "overdue"
    assert due_bucket(datetime(2025, 3, 10, 22, 59, tzinfo=UTC), False, windows) == "today"
    assert due_bucket(datetime(2025, 3, 10, 23, 0, tzinfo=UTC), False, windows) == "tomorrow"
    assert due_bucket(datetime(2025, 3, 12, 0, 0, tzinfo=UTC), False, windows) is None
    assert due_bucket(datetime(2025, 3, 1, tzinfo=UTC), True, windows) is None


def test_task_views_are_search_filters_on_my_open_tasks():
    # R-CSW-7
    windows = due_windows(NOW, PARIS)
    overdue = task_view_filters("overdue", 5, windows)
    assert {"propertyName": "hs_timestamp", "operator": "LT",
            "value": "2025-03-09T23:00:00.000Z"} in overdue
    assert {"propertyName": "hubspot_owner_id", "operator": "EQ", "value": "5"} in overdue
    tomorrow = task_view_filters("due_tomorrow", 5, windows)
    assert [f["value"] for f in tomorrow if f["propertyName"] == "hs_timestamp"] == [
        "2025-03-10T23:00:00.000Z", "2025-03-11T23:00:00.000Z"]
    assert {"propertyName": "hs_task_status", "operator": "EQ",
            "value": "COMPLETED"} in task_view_filters("completed", 5, windows)
    with pytest.raises(TaskRuleBroken):
        task_view_filters("someday", 5, windows)
    assert task_list_link("overdue", "Europe/Paris", 5) == (
        "/workspace/v1/tasks?view=overdue&timeZone=Europe%2FParis&userId=5")


def test_bulk_actions_become_property_changes_or_an_archive():
    # R-CSW-7
    assert BulkAction("mark_complete").changes() == {"hs_task_status": "COMPLETED"}
    assert BulkAction("mark_incomplete").changes() == {"hs_task_status": "NOT_STARTED"}
    assert BulkAction("assign", owner_id=9).changes() == {"hubspot_owner_id": "9"}
    assert BulkAction("edit_property", property_name="hs_task_priority",
                      value="HIGH").changes() == {"hs_task_priority": "HIGH"}
    assert BulkAction("delete").changes() is None
    with pytest.raises(TaskRuleBroken):
        BulkAction("assign").changes()


def test_a_bulk_report_accounts_for_every_task():
    # R-CSW-7: never half-applies silently
    report = BulkReport(total=3)
    report.record_success(["1"])
    assert report.outcome == "running"
    report.record_failure(["2", "3"], "hs_task_priority: not an option")
    assert report.outcome == "partially_failed"
    assert BulkReport.from_json(report.to_json()).to_json() == report.to_json()
    assert [len(c) for c in chunks([str(i) for i in range(250)])] == [100, 100, 50]


def test_schedule_windows_move_back_and_forth_and_hide_weekends():
    # R-CSW-8
    week = schedule_window("week", date(2025, 3, 12), PARIS, hide_weekends=True)
    assert week.days[0] == date(2025, 3, 10) and len(week.days) == 5
    assert (week.previous_anchor, week.next_anchor) == (date(2025, 3, 3), date(2025, 3, 17))
    assert week.start == datetime(2025, 3, 9, 23, tzinfo=UTC)
    month = schedule_window("month", date(2025, 3, 31), PARIS)
    assert len(month.days) == 31 and month.next_anchor == date(2025, 4, 1)
    assert month.previous_anchor == date(2025, 2, 1)
    # the DST change on 30 March: the window ends at local midnight, UTC+2
    assert month.end == datetime(2025, 3, 31, 22, tzinfo=UTC)
    day = schedule_window("day", date(2025, 3, 15), PARIS, hide_weekends=True)
    assert day.days == () and day.next_anchor == date(2025, 3, 16)
    with pytest.raises(UnknownTimeZone):
        zone("Mars/Olympus")


def test_custom_task_view_body_keeps_its_filters_and_sorts_soonest_due_first():
    # R-CSW-7: custom task views
    from crm_workspace.domain.tasks import custom_task_view_body
    from crm_workspace.domain.views import View
    view = View(id="v", tab="tasks", object_type="tasks", name="high", columns=("hs_body",),
                filter_groups=({"filters": [{"propertyName": "hs_task_priority",
                                             "operator": "EQ", "value": "HIGH"}]},))
    body = custom_task_view_body(view, 200, after="200")
    assert body["filterGroups"] == [{"filters": [
        {"propertyName": "hs_task_priority", "operator": "EQ", "value": "HIGH"}]}]
    assert body["sorts"] == [{"propertyName": "hs_timestamp", "direction": "ASCENDING"}]
    assert "hs_body" in body["properties"] and "hs_task_status" in body["properties"]
    assert (body["limit"], body["after"]) == (200, "200")
    assert "filterGroups" not in custom_task_view_body(
        View(id="w", tab="tasks", object_type="tasks", name="all"), 10)
    with pytest.raises(TaskRuleBroken, match="not a task view"):
        custom_task_view_body(View(id="c", tab="customers", object_type="companies",
                                   name="c"), 10)
