"""The feed (R-CSW-9) through the real record and association consumers."""

from __future__ import annotations

import pytest

from crm_platform.testing import eventually

pytestmark = pytest.mark.integration

CONTACT_TO_COMPANY = [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}]
CALL_TO_CONTACT = [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 194}]


async def _made(world, user, object_type, properties, associations=()):
    made = await world.records.post(f"/crm/v3/objects/{object_type}", json={
        "properties": properties, "associations": list(associations)}, headers=user.headers)
    assert made.status_code == 201, made.text
    return made.json()["id"]


async def _feed(world, user, query=""):
    answer = await world.workspace.get(f"/workspace/v1/feed{query}", headers=user.headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_feed_shows_activity_of_contacts_of_owned_companies(world):
    # R-CSW-9
    _, admin = await world.new_account()
    csm, other_csm = await world.csm(admin), await world.csm(admin)
    mine = await _made(world, admin, "companies",
                       {"name": "Acme", "hubspot_owner_id": str(csm.user_id)})
    shared = await _made(world, admin, "companies",
                         {"name": "Beta", "hubspot_owner_id": str(other_csm.user_id)})
    contact = await _made(world, admin, "contacts", {"email": "c@acme.example"}, [
        {"to": {"id": mine}, "types": CONTACT_TO_COMPANY},
        {"to": {"id": shared}, "types": CONTACT_TO_COMPANY}])
    stranger = await _made(world, admin, "contacts", {"email": "s@else.example"})
    old_call = await _made(world, admin, "calls", {
        "hs_call_title": "kickoff call", "hs_timestamp": "2025-01-01T10:00:00.000Z"},
        [{"to": {"id": contact}, "types": CALL_TO_CONTACT}])
    await _made(world, admin, "calls", {
        "hs_call_title": "not my customer", "hs_timestamp": "2025-01-02T10:00:00.000Z"},
        [{"to": {"id": stranger}, "types": CALL_TO_CONTACT}])
    # A follow-up through the workspace: an engagement made by records, as the caller.
    note = await world.workspace.post("/workspace/v1/feed/follow-ups", json={
        "type": "notes", "contactId": contact,
        "properties": {"hs_note_body": "renewal talk went well"}}, headers=csm.headers)
    assert note.status_code == 201, note.text
    note_id = note.json()["id"]

    async def both():
        items = (await _feed(world, csm))["results"]
        return [(i["objectType"], i["id"]) for i in items] if len(items) == 2 else None
    # Newest first: the note happens now, the call in January.
    assert await eventually(both, timeout=120, what="the feed to show both") == [
        ("notes", note_id), ("calls", old_call)]

    only_calls = await _feed(world, csm, "?types=calls")
    assert [i["id"] for i in only_calls["results"]] == [old_call]
    found = await _feed(world, csm, "?q=RENEWAL")
    assert [i["id"] for i in found["results"]] == [note_id]
    oldest = await _feed(world, csm, "?order=oldest")
    assert [i["id"] for i in oldest["results"]] == [old_call, note_id]

    first = await _feed(world, csm, "?limit=1")
    assert [i["id"] for i in first["results"]] == [note_id]
    older = await _feed(world, csm, f"?limit=1&after={first['paging']['next']['after']}")
    assert [i["id"] for i in older["results"]] == [old_call]
    bad = await world.workspace.get("/workspace/v1/feed?types=deals", headers=csm.headers)
    assert bad.status_code == 400 and bad.json()["errors"][0]["in"] == "types"

    # Hiding is for the caller alone: the other CSM of the contact still sees it.
    hidden = await world.workspace.delete(f"/workspace/v1/feed/calls/{old_call}",
                                          headers=csm.headers)
    assert hidden.status_code == 204, hidden.text
    assert [i["id"] for i in (await _feed(world, csm))["results"]] == [note_id]
    assert old_call in {i["id"] for i in (await _feed(world, other_csm))["results"]}
    assert (await world.workspace.delete("/workspace/v1/feed/calls/999999999999",
                                         headers=csm.headers)).status_code == 404

    # R-CSW-3 view as another user: a settings manager sees the CSM's feed as the CSM
    # does (their companies, their hidden items); a CSM may not open another's.
    manager = await world.new_user(admin, serviceSeat=True,
                                   permissions=["cs_workspace_access", "cs_settings_manage"])
    as_csm = await _feed(world, manager, f"?userId={csm.user_id}")
    assert [i["id"] for i in as_csm["results"]] == [note_id]
    assert (await _feed(world, manager))["results"] == []  # owns no company
    refused = await world.workspace.get(f"/workspace/v1/feed?userId={csm.user_id}",
                                        headers=other_csm.headers)
    assert refused.status_code == 403, refused.text
    unknown = await world.workspace.get("/workspace/v1/feed?userId=999999999999",
                                        headers=manager.headers)
    assert unknown.status_code == 404, unknown.text

    # Removing the contact from my company takes its activity out of my feed.
    removed = await world.records.delete(
        f"/crm/v4/objects/companies/{mine}/associations/contacts/{contact}",
        headers=admin.headers)
    assert removed.status_code == 204, removed.text

    async def emptied():
        return (await _feed(world, csm))["results"] == []
    assert await eventually(emptied, timeout=60, what="the feed to drop the contact")


async def test_feed_needs_workspace_access(world):
    # R-CSW-1, R-CSW-9
    _, admin = await world.new_account()
    no_access = await world.new_user(admin, serviceSeat=True)
    refused = await world.workspace.get("/workspace/v1/feed", headers=no_access.headers)
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["missing"] == "cs_workspace_access"
