"""Record preview (R-CSW-5) against the real records service."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration

CONTACT_TO_COMPANY = [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}]
NOTE_TO_COMPANY = [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 190}]


async def _made(world, user, object_type, properties, associations=()):
    made = await world.records.post(f"/crm/v3/objects/{object_type}", json={
        "properties": properties, "associations": list(associations)}, headers=user.headers)
    assert made.status_code == 201, made.text
    return made.json()["id"]


async def test_preview_lists_activities_associations_and_stores_unfollow_and_merges(world):
    # R-CSW-5
    _, admin = await world.new_account()
    csm = await world.csm(admin)
    company = await _made(world, admin, "companies", {"name": "Acme"})
    duplicate = await _made(world, admin, "companies", {"name": "Acme Inc"})
    contact = await _made(world, admin, "contacts", {"email": "p@acme.example"},
                          [{"to": {"id": company}, "types": CONTACT_TO_COMPANY}])
    note = await _made(world, admin, "notes", {
        "hs_note_body": "hello", "hs_timestamp": "2025-01-01T00:00:00.000Z"},
        [{"to": {"id": company}, "types": NOTE_TO_COMPANY}])

    shown = await world.workspace.get(f"/workspace/v1/preview/companies/{company}",
                                      headers=csm.headers)
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert body["record"]["properties"]["name"] == "Acme"
    assert any(h for h in body["history"])
    assert [a["id"] for a in body["activities"]["results"]] == [note]
    assert [str(a["toObjectId"]) for a in body["associations"]["contacts"]] == [contact]
    assert body["associations"]["deals"] == [] and body["following"] is True

    assert (await world.workspace.put(f"/workspace/v1/preview/companies/{company}/unfollow",
                                      headers=csm.headers)).status_code == 204
    again = await world.workspace.get(f"/workspace/v1/preview/companies/{company}",
                                      headers=csm.headers)
    assert again.json()["following"] is False
    # Unfollowing is the CSM's own: the admin still follows.
    theirs = await world.workspace.get(f"/workspace/v1/preview/companies/{company}",
                                       headers=admin.headers)
    assert theirs.json()["following"] is True
    assert (await world.workspace.delete(f"/workspace/v1/preview/companies/{company}/unfollow",
                                         headers=csm.headers)).status_code == 204

    merged = await world.workspace.post(f"/workspace/v1/preview/companies/{company}/merge",
                                        json={"objectIdToMerge": duplicate},
                                        headers=csm.headers)
    assert merged.status_code == 200, merged.text
    gone = await world.records.get(f"/crm/v3/objects/companies/{duplicate}",
                                   headers=admin.headers)
    # R-REC-10: a merged-away id answers the primary
    assert gone.status_code == 200 and gone.json()["id"] == company

    missing = await world.workspace.get("/workspace/v1/preview/companies/999999999999",
                                        headers=csm.headers)
    assert missing.status_code == 404
