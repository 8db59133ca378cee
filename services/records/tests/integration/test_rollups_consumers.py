"""Roll-ups and deal automation through the real Kafka consumers of the records
service (R-ROLL-1, R-ROLL-2, R-LIFE-4, R-LIFE-6)."""

from __future__ import annotations

import json

import pytest

from crm_platform.testing import eventually

pytestmark = pytest.mark.integration


def _with(type_id: int, to_id: str) -> list[dict]:
    return [{"to": {"id": to_id}, "types": [
        {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}]}]


async def _read(records, headers, object_type, record_id):
    return await records.client.get(f"/crm/v3/objects/{object_type}/{record_id}",
                                    headers=headers)


async def test_a_logged_call_rolls_up_on_the_contact_and_says_when(records):
    # R-ROLL-1, R-ROLL-2
    _, h = await records.new_account("rollup")
    contact = (await records.client.post("/crm/v3/objects/contacts", headers=h, json={
        "properties": {"email": "r@x.io"}})).json()["id"]
    call = await records.client.post("/crm/v3/objects/calls", headers=h, json={
        "properties": {"hs_timestamp": "2024-04-01T12:00:00Z", "hs_call_status": "COMPLETED"},
        "associations": _with(194, contact)})
    assert call.status_code == 201, call.text

    async def rolled():
        answer = await _read(records, h, "contacts", contact)
        done = answer.json()["properties"].get("notes_last_contacted")
        return answer if done else None

    answer = await eventually(rolled, timeout=30, what="notes_last_contacted")
    assert answer.json()["properties"]["notes_last_contacted"] == "2024-04-01T12:00:00.000Z"
    assert answer.json()["properties"]["notes_last_updated"] == "2024-04-01T12:00:00.000Z"
    progress = json.loads(answer.headers["X-CRM-Rollups-Updated-At"])
    assert set(progress) == {"notes_last_contacted", "notes_last_updated"}
    # An older call logged later never moves the date back.
    await records.client.post("/crm/v3/objects/calls", headers=h, json={
        "properties": {"hs_timestamp": "2024-01-01T12:00:00Z"},
        "associations": _with(194, contact)})

    async def stamped_again():
        again = await _read(records, h, "contacts", contact)
        later = json.loads(again.headers["X-CRM-Rollups-Updated-At"])
        return again if later["notes_last_contacted"] > progress["notes_last_contacted"] else None

    again = await eventually(stamped_again, timeout=30, what="a second roll-up pass")
    assert again.json()["properties"]["notes_last_contacted"] == "2024-04-01T12:00:00.000Z"
    history = (await records.client.get(f"/crm/v3/objects/contacts/{contact}/history",
                                        headers=h)).json()["results"]
    contacted = [c for c in history if c["propertyName"] == "notes_last_contacted"]
    assert [c["sourceType"] for c in contacted] == ["AUTOMATION"]


async def test_open_deal_then_won_moves_associated_contact(records):
    # R-LIFE-6, R-LIFE-4
    _, h = await records.new_account("deals")
    contact = (await records.client.post("/crm/v3/objects/contacts", headers=h, json={
        "properties": {"email": "d@x.io"}})).json()["id"]
    deal = await records.client.post("/crm/v3/objects/deals", headers=h, json={
        "properties": {"dealname": "Big", "dealstage": "appointmentscheduled"},
        "associations": _with(3, contact)})
    assert deal.status_code == 201, deal.text

    async def stage_is(wanted):
        answer = await _read(records, h, "contacts", contact)
        return answer.json()["properties"].get("lifecyclestage") == wanted

    await eventually(lambda: stage_is("opportunity"), timeout=30, what="opportunity")
    won = await records.client.patch(
        f"/crm/v3/objects/deals/{deal.json()['id']}", headers=h,
        json={"properties": {"dealstage": "closedwon", "amount": "10",
                             "closedate": "2024-05-01T00:00:00Z"}})
    assert won.status_code == 200, won.text
    assert won.json()["properties"]["hs_is_closed_won"] == "true", won.json()["properties"]
    # The groups start at the topics' ends with the session (conftest): no backlog first.
    await eventually(lambda: stage_is("customer"), timeout=30, interval=0.5, what="customer")
