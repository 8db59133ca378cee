"""Alerts expire after 14 days, the health overview, board columns and the
dashboard confirmation (R-CSW-3, R-CSW-6, R-CSW-10)."""

from datetime import UTC, datetime, timedelta

import pytest

from crm_workspace.domain.boards import board_columns
from crm_workspace.domain.dashboards import (
    DashboardGrant,
    DashboardRuleBroken,
    check_grant,
    visible_to,
)
from crm_workspace.domain.summary import HealthTally, alert_active, health_overview

NOW = datetime(2025, 3, 10, tzinfo=UTC)


def test_alerts_show_for_14_days_after_they_fired():
    # R-CSW-3
    assert alert_active(NOW - timedelta(days=13, hours=23), NOW)
    assert not alert_active(NOW - timedelta(days=14), NOW)


def test_health_overview_counts_and_shares_per_band_with_links():
    # R-CSW-3
    links = {b: f"/x?band={b}" for b in ("at_risk", "neutral", "healthy")}
    overview = health_overview([HealthTally("at_risk", 2, 1, 20), HealthTally("neutral", 6, 1, 60),
                                HealthTally("healthy", 9, 2, 190)], links)
    assert overview.average_score == 67.5
    assert overview.bands["healthy"] == {"count": 2, "share": 0.5, "link": "/x?band=healthy"}
    assert overview.bands["neutral"]["share"] == 0.25
    assert health_overview([], links) is None


def test_health_distribution_counts_customers_per_score_decile():
    # R-CSW-3 (Enterprise: the score distribution)
    links = {b: "" for b in ("at_risk", "neutral", "healthy")}
    overview = health_overview([HealthTally("at_risk", 0, 3, 12), HealthTally("healthy", 9, 2, 195),
                                HealthTally("neutral", 9, 1, 90)], links)
    assert overview.distribution["0-9"] == 3
    assert overview.distribution["90-100"] == 3
    assert overview.distribution["50-59"] == 0
    assert list(overview.distribution)[:2] == ["0-9", "10-19"] and len(overview.distribution) == 10


def test_board_groups_cards_by_stage_with_counts_and_amounts():
    # R-CSW-6
    stages = [{"id": "a", "label": "A"}, {"id": "b", "label": "B"}]
    cards = [{"id": "1", "properties": {"dealstage": "a", "amount": "100.5"}},
             {"id": "2", "properties": {"dealstage": "a", "amount": None}},
             {"id": "3", "properties": {"dealstage": "b", "amount": "7"}},
             {"id": "4", "properties": {"dealstage": "gone", "amount": "1"}}]
    columns = board_columns(stages, cards, "deals")
    assert [(c["stageId"], c["count"], c["amount"]) for c in columns] == [
        ("a", 2, "100.5"), ("b", 1, "7"), ("", 1, "1")]
    services = board_columns(stages, [{"id": "9", "properties": {"hs_pipeline_stage": "b"}}],
                             "services")
    assert [c["count"] for c in services] == [0, 1] and services[0]["amount"] is None


def test_adding_a_dashboard_needs_explicit_confirmation():
    # R-CSW-10
    grant = DashboardGrant("d1", "teams", frozenset({3}))
    with pytest.raises(DashboardRuleBroken, match="confirmAccess"):
        check_grant(grant, False, {3})
    with pytest.raises(DashboardRuleBroken, match="unknown teams: 3"):
        check_grant(grant, True, {4})
    check_grant(grant, True, {3})
    assert visible_to(grant, {3, 5}) and not visible_to(grant, {5})
    assert visible_to(DashboardGrant("d2", "everyone"), set())


def test_average_over_time_replays_each_customers_newest_score_per_day():
    # R-CSW-3 (Enterprise: average over time), R-HLTH-4
    from datetime import date

    from crm_workspace.domain.summary import ScoreChange, average_over_time
    days = [(date(2025, 3, d), datetime(2025, 3, d + 1, tzinfo=UTC)) for d in (1, 2, 3, 4)]
    changes = [ScoreChange(2, datetime(2025, 3, 2, 10, tzinfo=UTC), 80),
               ScoreChange(1, datetime(2025, 3, 3, 9, tzinfo=UTC), None),  # left the segments
               ScoreChange(3, datetime(2025, 3, 1, 23, tzinfo=UTC), 30),
               ScoreChange(3, datetime(2025, 3, 4, 0, tzinfo=UTC), 90)]  # the 4th, not the 3rd
    points = average_over_time({1: 40, 2: 60, 4: None}, changes, days)
    assert points == [
        {"date": "2025-03-01", "averageScore": 43.33, "customers": 3},
        {"date": "2025-03-02", "averageScore": 50.0, "customers": 3},
        {"date": "2025-03-03", "averageScore": 55.0, "customers": 2},
        {"date": "2025-03-04", "averageScore": 85.0, "customers": 2}]
    assert average_over_time({}, [], days[:1]) == [
        {"date": "2025-03-01", "averageScore": None, "customers": 0}]
