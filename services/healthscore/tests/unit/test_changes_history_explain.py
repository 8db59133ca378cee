"""Score changes with their cause, alerts, history and explanations
(R-HLTH-3, R-HLTH-4, R-HLTH-6)."""

from datetime import UTC, date, datetime, timedelta

from crm_healthscore.domain.changes import (
    CAUSE_TIME,
    ScoreChange,
    diff,
    event_cause,
    is_alert,
)
from crm_healthscore.domain.conditions import Condition
from crm_healthscore.domain.explain import explain
from crm_healthscore.domain.facts import CustomerFacts, Event
from crm_healthscore.domain.history import daily_history, distribution, preview_distribution
from crm_healthscore.domain.profile import Bands, EventRule, Group, Profile, PropertyRule
from crm_healthscore.domain.scoring import score

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
PROFILE = Profile(id="p1", name="Health", bands=Bands(40, 70), groups=(
    Group(kind="event", name="Meetings", max_points=50, window_days=30,
          rules=(EventRule("meeting", 20),)),
    Group(kind="property", name="Fit", max_points=50,
          rules=(PropertyRule(Condition("employees", "gte", "10"), 30),
                 PropertyRule(Condition("industry", "eq", "SAAS"), -10))),
), property_types={"employees": "number", "industry": "enumeration"})


def customer(id, meetings=0, **properties):
    events = tuple(Event(f"{id}-m{i}", "meeting", NOW - timedelta(days=i + 1), {})
                   for i in range(meetings))
    return CustomerFacts(id, properties, events)


def test_a_first_score_is_a_change_but_not_an_alert():
    # R-HLTH-3: publishing a profile must not alert every CSM
    first = score(PROFILE, customer("c1", 2, employees="50"), NOW)
    change = diff(None, first, event_cause("e1"), NOW)
    assert change == ScoreChange("c1", "p1", None, 70, None, "healthy", "event:e1", NOW)
    assert not is_alert(change)


def test_same_score_and_band_is_no_change():
    # R-HLTH-2
    result = score(PROFILE, customer("c1", 1, employees="50"), NOW)
    again = score(PROFILE, customer("c1", 1, employees="50"), NOW + timedelta(hours=1))
    assert diff(result, again, CAUSE_TIME, NOW) is None


def test_a_score_move_within_a_band_is_a_change_without_alert():
    # R-HLTH-3
    before = score(PROFILE, customer("c1", 1, employees="50"), NOW)
    after = score(PROFILE, customer("c1", 1, employees="50", industry="SAAS"), NOW)
    change = diff(before, after, event_cause("industry-set"), NOW)
    assert (change.old_score, change.new_score) == (50, 40)
    assert (change.old_band, change.new_band) == ("neutral", "neutral")
    assert not is_alert(change)


def test_a_band_change_by_time_is_an_alert_with_cause_time():
    # R-HLTH-2, R-HLTH-3, R-HLTH-6: the passing of time moved it
    facts = customer("c1", 2, employees="50")
    before = score(PROFILE, facts, NOW)
    later = score(PROFILE, facts, before.next_change_at)
    change = diff(before, later, CAUSE_TIME, before.next_change_at)
    assert (change.old_band, change.new_band, change.cause) == ("healthy", "neutral", "time")
    assert is_alert(change)


def test_leaving_the_profiles_segments_removes_the_score_without_alert():
    # R-HLTH-1
    before = score(PROFILE, customer("c1", 2, employees="50"), NOW)
    change = diff(before, None, event_cause("list-removed"), NOW)
    assert (change.new_score, change.new_band) == (None, None)
    assert not is_alert(change)


def test_distribution_counts_bands_and_averages():
    # R-HLTH-4
    assert distribution([(10, "at_risk"), (50, "neutral"), (90, "healthy"), (80, "healthy")]
                        ).__dict__ == {"at_risk": 1, "neutral": 1, "healthy": 2, "average": 57.5}
    empty = distribution([])
    assert (empty.total, empty.average) == (0, None)


def test_daily_history_replays_changes_to_the_end_of_each_day():
    # R-HLTH-4: distribution and average over time, daily
    day1 = datetime(2025, 6, 1, tzinfo=UTC)
    changes = [
        ScoreChange("c2", "p1", None, 80, None, "healthy", "event:a", day1 + timedelta(hours=9)),
        ScoreChange("c1", "p1", None, 30, None, "at_risk", "event:b", day1 + timedelta(hours=8)),
        ScoreChange("c1", "p1", 30, 60, "at_risk", "neutral", "time",
                    day1 + timedelta(days=1, hours=23, minutes=59)),
        ScoreChange("c2", "p1", 80, None, "healthy", None, "event:c",
                    day1 + timedelta(days=2)),  # midnight: belongs to day 3
    ]
    history = daily_history(changes, date(2025, 6, 1), date(2025, 6, 3))
    assert [(p.day.day, p.distribution.__dict__) for p in history] == [
        (1, {"at_risk": 1, "neutral": 0, "healthy": 1, "average": 55.0}),
        (2, {"at_risk": 0, "neutral": 1, "healthy": 1, "average": 70.0}),
        (3, {"at_risk": 0, "neutral": 1, "healthy": 0, "average": 60.0}),
    ]


def test_preview_distribution_scores_every_given_customer_without_writing():
    # R-HLTH-6: a draft's distribution over all customers, before publishing
    customers = [customer("a", 0), customer("b", 1, employees="50"),
                 customer("c", 3, employees="50")]
    preview = preview_distribution(PROFILE, customers, NOW)
    # 0 (at risk), 20 + 30 = 50 (neutral), min(60, 50) + 30 = 80 (healthy)
    assert preview.__dict__ == {"at_risk": 1, "neutral": 1, "healthy": 1, "average": 43.33}


def test_explain_says_per_group_what_was_earned_clipped_and_which_events_matched():
    # R-HLTH-6
    result = score(PROFILE, customer("c1", 3, employees="50", industry="SAAS"), NOW)
    changes = [
        ScoreChange("c1", "p1", 30, 70, "at_risk", "healthy", "event:c1-m0", NOW),
        ScoreChange("c1", "p1", None, 30, None, "at_risk", "event:x", NOW - timedelta(days=9)),
        ScoreChange("other", "p1", None, 5, None, "at_risk", "event:y", NOW),
    ]
    explanation = explain(result, changes)
    meetings, fit = explanation.groups
    assert (meetings.raw_points, meetings.capped_points) == (60, 50)
    assert meetings.cap_note == "earned 60, capped at the maximum 50"
    assert meetings.rules[0].event_ids == ("c1-m0", "c1-m1", "c1-m2")
    assert [r.description for r in fit.rules] == ["employees >= 10: +30", "industry = SAAS: -10"]
    assert fit.cap_note == "earned 20 of 50"
    assert [c.cause for c in explanation.changes] == ["event:x", "event:c1-m0"]
    assert explanation.score == 70
    assert explanation.next_change_at == NOW - timedelta(days=3) + timedelta(days=30)
