"""Record-level visibility of association and list-membership reads (R-AUTH-3):
ids of records the caller may not see are never listed, and every page is full
of what they may see (the filter is inside the query, before paging)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration
V4 = "/crm/v4/objects"


async def _owned_scope_user(records, admin) -> tuple[int, dict[str, str]]:
    """Ann sees and edits only records she owns, of every object type."""
    made = await records.client.post("/identity/v1/users", headers=admin, json={
        "email": "ann@assoc-vis.test",
        "objectScopes": {"*": {"view": "owned", "edit": "owned"}}})
    assert made.status_code == 201, made.text
    token = await records.client.post("/identity/v1/tokens", headers=admin,
                                      json={"userId": made.json()["id"]})
    assert token.status_code == 201, token.text
    return made.json()["id"], {"Authorization": f"Bearer {token.json()['token']}"}


async def _make(records, admin, object_type: str, owner: int) -> str:
    made = await records.client.post(f"/crm/v3/objects/{object_type}", headers=admin,
                                     json={"properties": {"hubspot_owner_id": str(owner)}})
    assert made.status_code == 201, made.text
    return made.json()["id"]


async def _pages(records, headers, path: str, key: str) -> list[str]:
    """Every page of one item; an empty page before the end would fail the test."""
    ids, after = [], None
    while True:
        page = await records.client.get(path, headers=headers,
                                        params={"limit": 1, **({"after": after} if after else {})})
        assert page.status_code == 200, page.text
        results = page.json()["results"]
        assert len(results) == 1, f"a page not full of what the caller sees: {page.text}"
        ids += [str(r[key]) for r in results]
        if "paging" not in page.json():
            return ids
        after = page.json()["paging"]["next"]["after"]


@pytest.fixture
async def world(records):
    """Ann's contact associated to companies owned alternately by Ann and the admin."""
    _, admin_id, admin = await records.new_account_and_admin("assoc-vis")
    ann, ann_h = await _owned_scope_user(records, admin)
    contact = await _make(records, admin, "contacts", ann)
    hidden_contact = await _make(records, admin, "contacts", admin_id)
    companies = [await _make(records, admin, "companies", owner)
                 for owner in (ann, admin_id, ann, admin_id)]
    for company in companies:
        linked = await records.client.put(
            f"{V4}/contacts/{contact}/associations/default/companies/{company}", headers=admin)
        assert linked.status_code == 200, linked.text
    return {"ann": ann_h, "ann_id": ann, "admin": admin, "contact": contact,
            "hidden_contact": hidden_contact, "ann_companies": companies[0::2],
            "companies": companies}


async def test_association_pages_list_only_records_the_caller_may_see(records, world):
    # R-AUTH-3
    path = f"{V4}/contacts/{world['contact']}/associations/companies"
    assert await _pages(records, world["ann"], path, "toObjectId") == world["ann_companies"]
    assert await _pages(records, world["admin"], path, "toObjectId") == world["companies"]
    hidden = await records.client.get(
        f"{V4}/contacts/{world['hidden_contact']}/associations/companies", headers=world["ann"])
    assert hidden.status_code == 404


async def test_association_batch_read_hides_unseen_records_on_both_sides(records, world):
    # R-AUTH-3
    answer = await records.client.post(
        "/crm/v4/associations/contacts/companies/batch/read", headers=world["ann"],
        json={"inputs": [{"id": world["contact"]}, {"id": world["hidden_contact"]}]})
    assert answer.status_code == 207, answer.text
    [result] = answer.json()["results"]
    assert result["from"] == {"id": world["contact"]}
    assert [str(t["toObjectId"]) for t in result["to"]] == world["ann_companies"]
    assert answer.json()["errors"][0]["context"]["ids"] == [world["hidden_contact"]]


async def test_record_read_with_associations_lists_only_seen_records(records, world):
    # R-AUTH-3
    def ids(answer):
        assert answer.status_code == 200, answer.text
        return sorted({a["id"] for a in answer.json()["associations"]["companies"]["results"]},
                      key=int)

    path = f"/crm/v3/objects/contacts/{world['contact']}"
    params = {"associations": "companies"}
    assert ids(await records.client.get(path, headers=world["ann"], params=params)) \
        == world["ann_companies"]
    assert ids(await records.client.get(path, headers=world["admin"], params=params)) \
        == world["companies"]


async def test_list_memberships_list_only_members_the_caller_may_see(records, world):
    # R-AUTH-3
    admin = world["admin"]
    made = await records.client.post("/crm/v3/lists", headers=admin, json={
        "name": "Mixed", "objectTypeId": "0-1", "processingType": "MANUAL"})
    assert made.status_code == 200, made.text
    list_id = made.json()["list"]["listId"]
    second = await _make(records, admin, "contacts", world["ann_id"])
    members = sorted([world["contact"], world["hidden_contact"], second], key=int)
    added = await records.client.put(f"/crm/v3/lists/{list_id}/memberships/add",
                                     headers=admin, json=[int(i) for i in members])
    assert added.status_code == 200, added.text
    path = f"/crm/v3/lists/{list_id}/memberships"
    assert await _pages(records, world["ann"], path, "recordId") \
        == [i for i in members if i != world["hidden_contact"]]
    assert await _pages(records, admin, path, "recordId") == members
