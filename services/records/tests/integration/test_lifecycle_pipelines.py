"""Lifecycle stages and pipelines through the HTTP API on the real store."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


async def test_lifecycle_refuses_regressions_and_clear_then_set_moves_back(records):
    # R-LIFE-2 R-LIFE-3
    _, headers = await records.new_account()
    created = await records.client.post("/crm/v3/objects/contacts", headers=headers,
                                        json={"properties": {"firstname": "Lee"}})
    contact_id = created.json()["id"]
    assert created.json()["properties"]["lifecyclestage"] == "lead"
    up = await records.client.patch(f"/crm/v3/objects/contacts/{contact_id}", headers=headers,
                                    json={"properties": {"lifecyclestage": "customer"}})
    assert up.status_code == 200
    down = await records.client.patch(f"/crm/v3/objects/contacts/{contact_id}",
                                      headers=headers,
                                      json={"properties": {"lifecyclestage": "lead"}})
    assert down.status_code == 400
    assert down.json()["errors"][0]["context"]["propertyName"] == ["lifecyclestage"]
    batch = await records.client.post("/crm/v3/objects/contacts/batch/update", headers=headers,
                                      json={"inputs": [
                                          {"id": contact_id, "properties": {"lifecyclestage": ""}},
                                          {"id": contact_id,
                                           "properties": {"lifecyclestage": "lead"}}]})
    assert batch.status_code == 200, batch.text
    assert batch.json()["results"][0]["properties"]["lifecyclestage"] == "lead"


async def test_default_pipelines_and_required_stage_properties(records):
    # R-PIPE-1 R-PIPE-2 R-PIPE-3
    _, headers = await records.new_account()
    listed = await records.client.get("/crm/v3/pipelines/deals", headers=headers)
    assert listed.status_code == 200
    [default] = listed.json()["results"]
    stages = {s["id"]: s for s in default["stages"]}
    assert stages["closedwon"]["metadata"] == {"isClosed": "true", "probability": "1.0"}
    assert stages["closedlost"]["metadata"]["probability"] == "0.0"
    patched = await records.client.patch(
        "/crm/v3/pipelines/deals/default/stages/contractsent", headers=headers,
        json={"metadata": {"requiredProperties": "amount;closedate"}})
    assert patched.status_code == 200, patched.text
    assert patched.json()["metadata"]["requiredProperties"] == "amount;closedate"
    deal = await records.client.post("/crm/v3/objects/deals", headers=headers, json={
        "properties": {"dealname": "D", "dealstage": "qualifiedtobuy"}})
    deal_id = deal.json()["id"]
    refused = await records.client.patch(f"/crm/v3/objects/deals/{deal_id}", headers=headers,
                                         json={"properties": {"dealstage": "contractsent"}})
    assert refused.status_code == 400
    assert sorted(e["context"]["propertyName"][0] for e in refused.json()["errors"]) == [
        "amount", "closedate"]
    moved = await records.client.patch(f"/crm/v3/objects/deals/{deal_id}", headers=headers,
                                       json={"properties": {"dealstage": "contractsent",
                                                            "amount": 5,
                                                            "closedate": "2024-06-01"}})
    assert moved.status_code == 200, moved.text
    read = await records.client.get(f"/crm/v3/objects/deals/{deal_id}",
                                    params={"propertiesWithHistory": "dealstage"},
                                    headers=headers)
    history = read.json()["propertiesWithHistory"]["dealstage"]
    assert [h["value"] for h in history] == ["contractsent", "qualifiedtobuy"]  # newest first
    assert history[0]["sourceType"] == "API" and history[0]["updatedByUserId"]


async def test_pipelines_can_be_created_and_used(records):  # R-PIPE-1
    _, headers = await records.new_account()
    created = await records.client.post("/crm/v3/pipelines/tickets", headers=headers, json={
        "label": "Escalations", "displayOrder": 1, "stages": [
            {"label": "Open", "displayOrder": 0, "metadata": {"ticketState": "OPEN"}},
            {"label": "Done", "displayOrder": 1, "metadata": {"ticketState": "CLOSED"}}]})
    assert created.status_code == 201, created.text
    pipeline = created.json()
    ticket = await records.client.post("/crm/v3/objects/tickets", headers=headers, json={
        "properties": {"subject": "Help", "hs_pipeline": pipeline["id"],
                       "hs_pipeline_stage": pipeline["stages"][0]["id"]}})
    assert ticket.status_code == 201, ticket.text
    wrong = await records.client.post("/crm/v3/objects/tickets", headers=headers, json={
        "properties": {"subject": "Help", "hs_pipeline": pipeline["id"],
                       "hs_pipeline_stage": "1"}})
    assert wrong.status_code == 400
    assert (await records.client.get("/crm/v3/pipelines/tickets", headers=headers)
            ).json()["results"][1]["label"] == "Escalations"
