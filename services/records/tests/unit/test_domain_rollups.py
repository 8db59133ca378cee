import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_records.domain.properties import format_datetime, parse_datetime
from crm_records.domain.rollups import (
    LAST_ACTIVITY,
    LAST_CONTACTED,
    advance_rollup,
    apply_engagement,
    rollup_candidates,
)

T1 = "2024-05-01T09:00:00.000Z"
T2 = "2024-05-02T09:00:00.000Z"


# R-ROLL-1
@pytest.mark.parametrize(("engagement_type", "properties", "expected"), [
    ("calls", {"hs_timestamp": T1}, {LAST_CONTACTED, LAST_ACTIVITY}),
    ("meetings", {"hs_timestamp": T1}, {LAST_CONTACTED, LAST_ACTIVITY}),
    ("emails", {"hs_timestamp": T1, "hs_email_direction": "EMAIL"},
     {LAST_CONTACTED, LAST_ACTIVITY}),
    ("emails", {"hs_timestamp": T1, "hs_email_direction": "INCOMING_EMAIL"}, {LAST_ACTIVITY}),
    ("communications", {"hs_timestamp": T1}, {LAST_CONTACTED, LAST_ACTIVITY}),
    ("notes", {"hs_timestamp": T1}, {LAST_ACTIVITY}),
    ("tasks", {"hs_timestamp": T1, "hs_task_status": "COMPLETED",
               "hs_task_completion_date": T2}, {LAST_ACTIVITY}),
    ("tasks", {"hs_timestamp": T1, "hs_task_status": "NOT_STARTED"}, set()),
    ("emails", {"hs_timestamp": T1, "hs_email_direction": "EMAIL",
                "hs_email_status": "SCHEDULED"}, set()),
    ("calls", {"hs_timestamp": T1, "hs_call_status": "CANCELED"}, set()),
    ("meetings", {"hs_timestamp": T1, "hs_meeting_outcome": "CANCELED"}, set()),
    ("deals", {"hs_timestamp": T1}, set()),
    ("notes", {}, set()),
])
def test_which_engagements_count_for_which_rollup(engagement_type, properties, expected):
    assert set(rollup_candidates(engagement_type, properties)) == expected


# R-ROLL-1: a task counts at its completion, not at its due date
def test_a_completed_task_counts_at_its_completion_time():
    candidates = rollup_candidates("tasks", {"hs_timestamp": T1, "hs_task_status": "COMPLETED",
                                             "hs_task_completion_date": T2})
    assert format_datetime(candidates[LAST_ACTIVITY]) == T2


# R-ROLL-2
def test_a_rollup_never_moves_backward():
    assert advance_rollup(None, T1) == T1
    assert advance_rollup(T1, T2) == T2
    assert advance_rollup(T2, T1) == T2
    assert advance_rollup(T2, parse_datetime(T1)) == T2


# R-ROLL-2
def test_applying_an_engagement_reports_only_real_changes():
    call = {"hs_timestamp": T2}
    record = {LAST_CONTACTED: T1, LAST_ACTIVITY: None}
    assert apply_engagement(record, "calls", call) == {LAST_CONTACTED: T2, LAST_ACTIVITY: T2}
    assert apply_engagement({LAST_CONTACTED: T2, LAST_ACTIVITY: T2}, "calls",
                            {"hs_timestamp": T1}) == {}


# R-ROLL-2: the same engagement twice is a no-op the second time
def test_applying_the_same_engagement_twice_changes_nothing_the_second_time():
    record = {LAST_CONTACTED: None, LAST_ACTIVITY: T1}
    meeting = {"hs_timestamp": T2}
    first = apply_engagement(record, "meetings", meeting)
    assert first
    assert apply_engagement({**record, **first}, "meetings", meeting) == {}


# R-ROLL-2: late, repeated and shuffled deliveries end at the newest time
@given(st.lists(st.integers(min_value=0, max_value=4_000_000_000_000), min_size=1, max_size=20),
       st.randoms())
def test_any_order_and_any_repetition_ends_at_the_newest(times, shuffler):
    deliveries = times + times[: len(times) // 2]
    shuffler.shuffle(deliveries)
    value = None
    for moment in deliveries:
        advanced = advance_rollup(value, moment)
        assert value is None or parse_datetime(advanced) >= parse_datetime(value)
        value = advanced
    assert value == format_datetime(parse_datetime(max(times)))
