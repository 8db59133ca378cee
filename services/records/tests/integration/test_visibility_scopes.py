"""Record-level visibility through the API, users made with /identity/v1/users
(R-AUTH-2, R-AUTH-3): single reads, pages, batch reads, history, and the edit
scope on updates and archives."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration
CONTACTS = "/crm/v3/objects/contacts"


async def make_user(records, admin, email: str, view: str, edit: str,
                    team_ids: list[int] = ()) -> tuple[int, dict[str, str]]:
    made = await records.client.post("/identity/v1/users", headers=admin, json={
        "email": email, "teamIds": list(team_ids),
        "objectScopes": {"contacts": {"view": view, "edit": edit}}})
    assert made.status_code == 201, made.text
    user_id = made.json()["id"]
    token = await records.client.post("/identity/v1/tokens", headers=admin,
                                      json={"userId": user_id})
    assert token.status_code == 201, token.text
    return user_id, {"Authorization": f"Bearer {token.json()['token']}"}


@pytest.fixture
async def world(records):
    """Ann (owned), Ben (team mate of Ann, view team / edit owned), Cat (all) and
    one contact owned by each of Ann, Ben, the admin, and one without an owner."""
    _, admin_id, admin = await records.new_account_and_admin()
    team = await records.client.post("/identity/v1/teams", headers=admin,
                                     json={"name": "Support"})
    team_id = team.json()["id"]
    ann, ann_h = await make_user(records, admin, "ann@x.test", "owned", "owned", [team_id])
    ben, ben_h = await make_user(records, admin, "ben@x.test", "team", "owned", [team_id])
    _, cat_h = await make_user(records, admin, "cat@x.test", "all", "all")
    ids = {}
    for name, owner in (("ann", ann), ("ben", ben), ("admin", admin_id), ("none", None)):
        props = {"firstname": name, **({"hubspot_owner_id": str(owner)} if owner else {})}
        made = await records.client.post(CONTACTS, headers=admin, json={"properties": props})
        assert made.status_code == 201, made.text
        ids[name] = made.json()["id"]
    return {"ids": ids, "ann": ann_h, "ben": ben_h, "cat": cat_h, "admin": admin}


async def listed(records, headers) -> list[str]:
    """Every page of one record, so a filter applied after paging would show up."""
    names, after = [], None
    while True:
        page = await records.client.get(CONTACTS, headers=headers, params={
            "limit": 1, "properties": "firstname", **({"after": after} if after else {})})
        assert page.status_code == 200, page.text
        names += [r["properties"]["firstname"] for r in page.json()["results"]]
        if "paging" not in page.json():
            return names
        after = page.json()["paging"]["next"]["after"]


@pytest.mark.parametrize(("who", "seen"), [
    ("ann", {"ann"}), ("ben", {"ann", "ben"}), ("cat", {"ann", "ben", "admin", "none"})])
async def test_reads_lists_batches_and_history_follow_the_view_scope(records, world, who, seen):
    # R-AUTH-3
    headers, ids = world[who], world["ids"]
    assert set(await listed(records, headers)) == seen
    for name, record_id in ids.items():
        single = await records.client.get(f"{CONTACTS}/{record_id}", headers=headers)
        history = await records.client.get(f"{CONTACTS}/{record_id}/history", headers=headers)
        expected = 200 if name in seen else 404
        assert (single.status_code, history.status_code) == (expected, expected), name
    batch = await records.client.post(f"{CONTACTS}/batch/read", headers=headers, json={
        "inputs": [{"id": i} for i in ids.values()], "properties": ["firstname"]})
    assert {r["properties"]["firstname"] for r in batch.json()["results"]} == seen
    hidden = {ids[n] for n in ids if n not in seen}
    if hidden:
        assert batch.status_code == 207
        assert set(batch.json()["errors"][0]["context"]["ids"]) == hidden


async def test_edit_scope_refuses_with_403_what_is_seen_and_404_what_is_not(records, world):
    # R-AUTH-3: Ben sees Ann's contact (team) but edits only his own
    ids, ben = world["ids"], world["ben"]
    refused = await records.client.patch(f"{CONTACTS}/{ids['ann']}", headers=ben,
                                         json={"properties": {"lastname": "X"}})
    assert refused.status_code == 403, refused.text
    assert "'owned'" in refused.json()["message"]
    hidden = await records.client.patch(f"{CONTACTS}/{ids['admin']}", headers=ben,
                                        json={"properties": {"lastname": "X"}})
    assert hidden.status_code == 404
    assert (await records.client.delete(f"{CONTACTS}/{ids['ann']}", headers=ben)
            ).status_code == 403
    assert (await records.client.delete(f"{CONTACTS}/{ids['admin']}", headers=ben)
            ).status_code == 404
    batch = await records.client.post(f"{CONTACTS}/batch/update", headers=ben, json={
        "inputs": [{"id": ids["ben"], "properties": {"lastname": "Y"}},
                   {"id": ids["admin"], "properties": {"lastname": "Y"}}]})
    assert batch.status_code == 404  # nothing of the batch is written
    mine = await records.client.patch(f"{CONTACTS}/{ids['ben']}", headers=ben,
                                      json={"properties": {"lastname": "Mine"}})
    assert mine.status_code == 200, mine.text
    untouched = await records.client.get(f"{CONTACTS}/{ids['admin']}", headers=world["admin"])
    assert untouched.json()["properties"].get("lastname") is None
