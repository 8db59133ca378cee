"""Profiles through the HTTP API on the real store (R-HLTH-1, R-HLTH-5, R-HLTH-6)."""

from __future__ import annotations

import pytest

from .conftest import new_account

pytestmark = pytest.mark.integration

EDITOR = ("cs_workspace_access", "cs_settings_manage")


def profile_body(name: str = "Health", segments: bool = True) -> dict:
    return {
        "name": name,
        "bands": {"at_risk_below": 40, "healthy_from": 70},
        "segments": [{"id": "all", "name": "Every customer", "filter_groups": []}]
        if segments else [],
        "groups": [
            {"kind": "property", "name": "Size", "max_points": 40, "rules": [
                {"property": "numberofemployees", "operator": "gte", "value": "50",
                 "points": 40}]},
            {"kind": "event", "name": "Calls", "max_points": 60, "window_days": 30, "rules": [
                {"event_type": "call", "points": 20}]},
        ],
    }


async def test_only_a_seat_and_settings_permission_edit_everyone_with_access_reads(health):
    # R-HLTH-5 R-CSW-1
    account = new_account()
    editor = await health.user(account, 1, permissions=EDITOR)
    reader = await health.user(account, 2)
    seatless_admin = await health.user(account, 3, seat=False, super_admin=True)
    client = health.client

    refused = await client.post("/healthscores/v1/profiles", json=profile_body(), headers=reader)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert "cs_settings_manage" in refused.json()["detail"]
    refused = await client.post("/healthscores/v1/profiles", json=profile_body(),
                                headers=seatless_admin)
    assert refused.status_code == 403 and "Service seat" in refused.json()["detail"]

    created = await client.post("/healthscores/v1/profiles", json=profile_body(),
                                headers=editor)
    assert created.status_code == 201, created.text
    profile_id = created.json()["id"]
    assert created.json()["status"] == "draft" and created.json()["has_draft"]

    listed = await client.get("/healthscores/v1/profiles", headers=reader)
    assert [p["id"] for p in listed.json()["results"]] == [profile_id]
    assert (await client.put(f"/healthscores/v1/profiles/{profile_id}", json=profile_body(),
                             headers=reader)).status_code == 403
    assert (await client.post(f"/healthscores/v1/profiles/{profile_id}/publish",
                              headers=reader)).status_code == 403
    assert (await client.get("/healthscores/v1/profiles", headers={})).status_code == 401


async def test_a_bad_profile_answers_400_naming_each_problem_and_stores_nothing(health):
    # R-HLTH-1
    account = new_account()
    editor = await health.user(account, 1, permissions=EDITOR)
    bad = profile_body()
    bad["groups"][0]["max_points"] = 50
    bad["groups"][0]["rules"][0]["property"] = "no_such_property"
    bad["groups"][1]["decay"] = {"percent": 50, "every_months": 2}
    bad["groups"].append({"kind": "event", "name": "Empty", "max_points": 10, "rules": []})
    bad["bands"] = {"at_risk_below": 80, "healthy_from": 70}
    answer = await health.client.post("/healthscores/v1/profiles", json=bad, headers=editor)
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
    problems = {e["in"]: e["message"] for e in answer.json()["errors"]}
    assert "'Size' (50), 'Calls' (60), 'Empty' (10) add up to 120" in problems["groups"]
    assert problems["groups[0].rules[0].when.property"] == \
        "unknown property 'no_such_property'"
    assert "both a time window and a decay" in problems["groups[1]"]
    assert "every_months must be one of 1, 3, 6, 12" in problems["groups[1].decay.every_months"]
    assert "is empty" in problems["groups[2].rules"]
    assert "cut-offs out of order" in problems["bands"]
    listed = await health.client.get("/healthscores/v1/profiles", headers=editor)
    assert listed.json()["results"] == []


async def test_tier_limits_on_drafts_and_live_profiles(health):
    # R-HLTH-1: standard 1 live + 5 drafts; enterprise 10 live + 20 drafts
    account = new_account()
    editor = await health.user(account, 1, permissions=EDITOR)
    client = health.client
    ids = []
    for n in range(5):
        answer = await client.post("/healthscores/v1/profiles", json=profile_body(f"P{n}"),
                                   headers=editor)
        assert answer.status_code == 201, answer.text
        ids.append(answer.json()["id"])
    sixth = await client.post("/healthscores/v1/profiles", json=profile_body("P5"),
                              headers=editor)
    assert sixth.status_code == 400
    assert "standard tier allows 5 draft score profiles" in sixth.json()["detail"]

    published = await client.post(f"/healthscores/v1/profiles/{ids[0]}/publish", headers=editor)
    assert published.status_code == 200, published.text
    assert published.json()["status"] == "live" and not published.json()["has_draft"]
    second = await client.post(f"/healthscores/v1/profiles/{ids[1]}/publish", headers=editor)
    assert second.status_code == 400
    assert "standard tier allows 1 live score profile" in second.json()["detail"]
    # Editing the live one makes its draft; publishing that replaces it (no free place needed).
    edited = await client.put(f"/healthscores/v1/profiles/{ids[0]}",
                              json=profile_body("P0 v2"), headers=editor)
    assert edited.status_code == 200 and edited.json()["has_draft"]
    assert edited.json()["live"]["name"] == "P0" and edited.json()["draft"]["name"] == "P0 v2"
    again = await client.post(f"/healthscores/v1/profiles/{ids[0]}/publish", headers=editor)
    assert again.status_code == 200 and again.json()["live"]["name"] == "P0 v2"

    enterprise = await health.user(new_account(), 1, permissions=EDITOR, tier="enterprise")
    for n in range(20):
        answer = await client.post("/healthscores/v1/profiles", json=profile_body(f"E{n}"),
                                   headers=enterprise)
        assert answer.status_code == 201, answer.text
    over = await client.post("/healthscores/v1/profiles", json=profile_body("E20"),
                             headers=enterprise)
    assert over.status_code == 400 and "20 draft" in over.json()["detail"]


async def test_a_live_profile_needs_a_segment_and_templates_are_listed(health):
    # R-HLTH-1
    account = new_account()
    editor = await health.user(account, 1, permissions=EDITOR)
    created = await health.client.post("/healthscores/v1/profiles",
                                       json=profile_body(segments=False), headers=editor)
    assert created.status_code == 201
    refused = await health.client.post(f"/healthscores/v1/profiles/{created.json()['id']}"
                                       "/publish", headers=editor)
    assert refused.status_code == 400
    assert refused.json()["errors"] == [
        {"in": "segments", "message": "a live profile needs at least one segment"}]
    templates = await health.client.get("/healthscores/v1/templates", headers=editor)
    assert [t["template"] for t in templates.json()["results"]] == [
        "one_to_one_engagement", "one_to_one_call_engagement", "supported_tickets",
        "csm_sentiment", "nps"]
