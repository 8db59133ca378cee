"""Property history per property and per record (R-REC-4)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


async def test_history_is_newest_first_with_source_and_user(records):  # R-REC-4
    _, admin, headers = await records.new_account_and_admin()
    created = await records.client.post("/crm/v3/objects/companies", headers=headers,
                                        json={"properties": {"name": "One"}})
    company = created.json()["id"]
    for name in ("Two", "", "Three"):
        answer = await records.client.patch(f"/crm/v3/objects/companies/{company}",
                                            headers=headers, json={"properties": {"name": name}})
        assert answer.status_code == 200, answer.text
    read = await records.client.get(f"/crm/v3/objects/companies/{company}", headers=headers,
                                    params={"propertiesWithHistory": "name,domain"})
    history = read.json()["propertiesWithHistory"]
    assert [h["value"] for h in history["name"]] == ["Three", "", "Two", "One"]
    assert {(h["sourceType"], h["updatedByUserId"]) for h in history["name"]} == {
        ("API", admin)}
    assert history["domain"] == []
    whole = await records.client.get(f"/crm/v3/objects/companies/{company}/history",
                                     headers=headers)
    assert whole.status_code == 200
    names = [(e["propertyName"], e["value"]) for e in whole.json()["results"]
             if e["propertyName"] == "name"]
    assert names == [("name", "Three"), ("name", ""), ("name", "Two"), ("name", "One")]
    stamps = [e["timestamp"] for e in whole.json()["results"]]
    assert stamps == sorted(stamps, reverse=True)
    missing = await records.client.get("/crm/v3/objects/companies/999999/history",
                                       headers=headers)
    assert missing.status_code == 404
