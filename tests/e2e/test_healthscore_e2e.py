"""A CSM's customer gets healthier as calls and meetings are logged through the records
API, and sicker when time passes without them: the health score service learns it all
from the bus (record and association events), scores, explains and alerts the CSM.
Runs against the services `make test` starts behind the nginx gateway."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from crm_platform.testing import wait_until

pytestmark = pytest.mark.e2e

CALL_TO_COMPANY, MEETING_TO_COMPANY = 182, 188


def test_logged_calls_and_meetings_raise_the_score_and_time_lowers_it(gateway_url,
                                                                      operator_key):
    # R-HLTH-2 R-HLTH-3 R-HLTH-4 R-HLTH-6 R-CSW-3 R-REC-7
    account = httpx.post(f"{gateway_url}/identity/v1/accounts", json={"name": "health-e2e"},
                         headers={"X-Operator-Key": operator_key}, timeout=30)
    assert account.status_code == 201, account.text
    token, csm = account.json()["token"], account.json()["userId"]
    http = httpx.Client(base_url=gateway_url, timeout=30,
                        headers={"Authorization": f"Bearer {token}"})
    company = http.post("/crm/v3/objects/companies", json={"properties": {
        "name": "Acme e2e", "hubspot_owner_id": str(csm)}})
    assert company.status_code == 201, company.text
    company_id = int(company.json()["id"])

    profile = {
        "name": "Engagement", "bands": {"at_risk_below": 40, "healthy_from": 70},
        "segments": [{"id": "all", "name": "Every customer", "filter_groups": []}],
        "groups": [
            {"kind": "event", "name": "Calls", "max_points": 60, "window_days": 30,
             "rules": [{"event_type": "call", "points": 20}]},
            {"kind": "event", "name": "Meetings", "max_points": 40, "window_days": 30,
             "rules": [{"event_type": "meeting", "points": 20, "where": {
                 "property": "outcome", "operator": "eq", "value": "COMPLETED"}}]},
        ],
    }
    # The service's identity copy learns the new admin from the bus: retry until it has.
    created = wait_until(lambda: (r := http.post("/healthscores/v1/profiles", json=profile))
                     .status_code == 201 and r, "the profile to be created")
    profile_id = created.json()["id"]
    assert http.post(f"/healthscores/v1/profiles/{profile_id}/publish").status_code == 200
    score_path = f"/healthscores/v1/profiles/{profile_id}/scores/{company_id}"

    def explained(score: int):  # type: ignore[no-untyped-def]
        def probe():  # type: ignore[no-untyped-def]
            answer = http.get(score_path)
            return answer.json() if answer.status_code == 200 and \
                answer.json()["score"] == score else None
        return wait_until(probe, f"the score {score}")

    first = explained(0)
    assert first["band"] == "at_risk"

    yesterday = datetime.now(UTC) - timedelta(days=1)

    def log(kind: str, type_id: int, properties: dict) -> int:
        answer = http.post(f"/crm/v3/objects/{kind}", json={
            "properties": {"hs_timestamp": yesterday.isoformat(), **properties},
            "associations": [{"to": {"id": company_id}, "types": [
                {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}]}]})
        assert answer.status_code == 201, answer.text
        return int(answer.json()["id"])

    calls = [log("calls", CALL_TO_COMPANY, {"hs_call_duration": "960000"}) for _ in range(2)]
    neutral = explained(40)
    assert neutral["band"] == "neutral"
    assert sorted(neutral["groups"][0]["rules"][0]["event_ids"]) == sorted(
        f"calls:{c}" for c in calls)
    log("meetings", MEETING_TO_COMPANY, {"hs_meeting_outcome": "COMPLETED",
                                         "hs_meeting_start_time": yesterday.isoformat()})
    log("calls", CALL_TO_COMPANY, {"hs_call_duration": "60000"})
    healthy = explained(80)
    assert healthy["band"] == "healthy"
    assert healthy["groups"][0]["cap_note"] == "earned 60 of 60"

    # A month passes without a call or meeting: the operator moves the clock.
    tick = http.post("/healthscores/v1/operator/clock/tick",
                     json={"now": (datetime.now(UTC) + timedelta(days=31)).isoformat()},
                     headers={"X-Operator-Key": os.environ.get("HEALTHSCORE_OPERATOR_KEY",
                                                               operator_key)})
    assert tick.status_code == 200, tick.text
    decayed = explained(0)
    assert decayed["band"] == "at_risk" and decayed["changes"][-1]["cause"] == "time"

    alerts = http.get("/healthscores/v1/alerts").json()["results"]
    assert [(a["old_band"], a["new_band"]) for a in alerts if a["customer_id"] == company_id
            ] == [("healthy", "at_risk"), ("neutral", "healthy"), ("at_risk", "neutral")]
    history = http.get(f"/healthscores/v1/profiles/{profile_id}/history?days=1").json()
    assert history["results"][-1]["total"] == 1
