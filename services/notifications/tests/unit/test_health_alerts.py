"""A change of health band alerts the customer's CSM, in the app and by email,
with the change and a link to the customer (R-HLTH-3 R-NOTE-1)."""

from datetime import UTC, datetime, timedelta

from crm_contracts.healthscores import v1 as healthscores_v1
from crm_notifications.domain.messages import NOTICES_BY_EVENT_TYPE, Links

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
LINKS = Links("https://crm.example.com/")


def alert(user_id: int | None = 42, cause: str = "event:ev-9") -> dict:
    return healthscores_v1.HealthAlertRaised(
        alert_id="a-1", account_id=1, user_id=user_id, profile_id="p-1",
        profile_name="Onboarding", customer_object_type="companies", customer_id=77,
        old_band="healthy", new_band="at_risk", score=31, cause=cause, fired_at=NOW,
        expires_at=NOW + timedelta(days=14)).model_dump(mode="json")


def render(data: dict) -> list:
    return NOTICES_BY_EVENT_TYPE[healthscores_v1.HealthAlertRaised.EVENT_TYPE](data, LINKS)


def test_the_csm_is_told_the_change_with_a_link_to_the_customer():  # R-HLTH-3 R-NOTE-1
    [notice] = render(alert())
    assert notice.user_id == 42 and notice.kind == "health_alert"
    assert notice.link == "https://crm.example.com/crm/v3/objects/companies/77"
    assert notice.title == "Health alert: company 77 went from Healthy to At risk"
    assert "score now 31" in notice.body and '"Onboarding"' in notice.body
    assert notice.link in notice.body and "2026-12-07" in notice.body


def test_the_cause_is_said_in_words():  # R-HLTH-3 R-HLTH-6
    assert "time passed" in render(alert(cause="time"))[0].body
    assert "profile was published" in render(alert(cause="profile:p-1"))[0].body
    assert "event:ev-9" in render(alert())[0].body


def test_a_customer_without_a_csm_alerts_nobody():  # R-HLTH-3
    assert render(alert(user_id=None)) == []


def test_score_changes_without_a_band_change_are_not_notified():  # R-HLTH-3
    assert healthscores_v1.HealthScoreChanged.EVENT_TYPE not in NOTICES_BY_EVENT_TYPE
