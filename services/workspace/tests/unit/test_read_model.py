"""Record events into the read model: newest version wins, user assignments kept
with their time (R-CSW-4, R-BUS-3)."""

from datetime import UTC, datetime

from crm_workspace.domain.read_model import (
    assignments,
    forgotten,
    newest,
    parsed_datetime,
    parsed_number,
    snapshot,
)

T = datetime(2025, 3, 1, tzinfo=UTC)


def event(version: int, **properties):
    return {"account_id": 1, "object_type": "companies", "record_id": 5, "version": version,
            "properties": properties, "created_at": "2025-03-01T00:00:00Z",
            "updated_at": "2025-03-01T00:00:00.123Z"}


def test_newest_snapshot_per_record_wins_whatever_the_order():
    later = snapshot("crm.record.updated.v1", event(3, hubspot_owner_id="7"))
    earlier = snapshot("crm.record.created.v1", event(1))
    assert newest([later, earlier]) == [later]
    assert later.owner_id == 7 and later.created_at == T
    assert snapshot("crm.record.deleted.v1", event(4)) is None


def test_assignments_come_from_changes_and_creation_with_user_ids_only():
    # R-CSW-4: "assigned to me within 30 days" needs when the CSM property was set
    updated = {**event(2), "changes": [
        {"name": "csm", "old_value": None, "new_value": "42", "source": "API"},
        {"name": "name", "old_value": "a", "new_value": "b", "source": "API"}]}
    [found] = assignments("crm.record.updated.v1", updated, T)
    assert (found.property, found.user_id, found.assigned_at) == ("csm", 42, T)
    created = assignments("crm.record.created.v1", event(1, hubspot_owner_id="9", name="x"), T)
    assert [(a.property, a.user_id) for a in created] == [("hubspot_owner_id", 9)]


def test_deletion_and_merge_forget_a_record():
    assert forgotten("crm.record.deleted.v1", event(9)) == (1, "companies", 5)
    assert forgotten("crm.record.merged.v1", {**event(9), "merged_record_id": 6}) == (
        1, "companies", 6)


def test_snapshot_types_the_values_the_summary_filters_on():
    # R-CSW-3: due time, status and health read from typed, indexed columns
    at = "2025-03-10T08:00:00.000Z"
    task = snapshot("crm.record.created.v1", {
        "account_id": 1, "object_type": "tasks", "record_id": 5, "version": 1,
        "properties": {"hs_timestamp": at, "hs_task_status": "COMPLETED"},
        "created_at": at, "updated_at": at})
    assert task.scheduled_at == datetime(2025, 3, 10, 8, tzinfo=UTC)
    assert task.task_status == "COMPLETED" and task.health_score is None
    meeting = snapshot("crm.record.created.v1", {
        "account_id": 1, "object_type": "meetings", "record_id": 6, "version": 1,
        "properties": {"hs_meeting_start_time": at, "hs_timestamp": "not a time"},
        "created_at": at, "updated_at": at})
    assert meeting.scheduled_at == datetime(2025, 3, 10, 8, tzinfo=UTC)
    assert meeting.task_status is None
    customer = snapshot("crm.record.created.v1", {
        "account_id": 1, "object_type": "companies", "record_id": 7, "version": 1,
        "properties": {"health_score": "73", "health_status": "healthy",
                       "hs_timestamp": at}, "created_at": at, "updated_at": at})
    assert (customer.health_score, customer.health_band) == (73.0, "healthy")
    assert customer.scheduled_at is None  # only tasks and meetings are scheduled


def test_values_that_are_not_the_records_forms_stay_untyped():
    # R-CSW-3: a malformed value is left out of the counts rather than failing the batch
    assert parsed_datetime("2025-03-10") is None
    assert parsed_datetime("2025-02-30T00:00:00.000Z") is None  # shape right, no such day
    assert parsed_datetime(1741593600000) is None
    assert parsed_number("12.5") == 12.5 and parsed_number(40) == 40.0
    assert parsed_number("high") is None and parsed_number(None) is None
