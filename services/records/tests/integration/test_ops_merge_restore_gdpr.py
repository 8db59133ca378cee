"""Merge (R-REC-10), restore within the window and GDPR deletion (R-REC-11)
through the API, on a throwaway database."""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.integration
CONTACTS = "/crm/v3/objects/contacts"


def email() -> str:
    return f"m-{uuid.uuid4().hex[:10]}@example.com"


async def create(records, headers, object_type: str, **properties: str) -> str:
    made = await records.client.post(f"/crm/v3/objects/{object_type}", headers=headers,
                                     json={"properties": properties})
    assert made.status_code == 201, made.text
    return made.json()["id"]


async def test_merge_keeps_the_primary_fills_blanks_and_forwards_the_secondary(records):
    # R-REC-10
    _, headers = await records.new_account()
    first, second = email(), email()
    primary = await create(records, headers, "contacts", email=first, firstname="Ann")
    secondary = await create(records, headers, "contacts", email=second, firstname="Anna",
                             lastname="Lee", jobtitle="CTO")
    company = await create(records, headers, "companies", name="Acme")
    linked = await records.client.put(
        f"/crm/v4/objects/contacts/{secondary}/associations/default/companies/{company}",
        headers=headers)
    assert linked.status_code in (200, 201), linked.text

    merged = await records.client.post(f"{CONTACTS}/merge", headers=headers, json={
        "primaryObjectId": primary, "objectIdToMerge": secondary})
    assert merged.status_code == 200, merged.text
    body = merged.json()
    assert body["id"] == primary
    assert body["properties"]["firstname"] == "Ann"  # the primary's own value stays
    assert body["properties"]["lastname"] == "Lee" and body["properties"]["jobtitle"] == "CTO"
    assert body["properties"]["email"] == first
    assert second in body["properties"]["hs_additional_emails"]
    assert secondary in body["properties"]["hs_merged_object_ids"]

    forwarded = await records.client.get(f"{CONTACTS}/{secondary}", headers=headers,
                                         params={"propertiesWithHistory": "lastname"})
    assert forwarded.status_code == 200 and forwarded.json()["id"] == primary
    [change] = forwarded.json()["propertiesWithHistory"]["lastname"]
    assert (change["sourceType"], change["sourceId"]) == ("MERGE", secondary)
    listed = await records.client.get(CONTACTS, headers=headers, params={"limit": 100})
    assert [r["id"] for r in listed.json()["results"]] == [primary]
    archived = await records.client.get(CONTACTS, headers=headers, params={"archived": "true"})
    assert archived.json()["results"] == []  # merged away is not archived

    companies = await records.client.get(
        f"/crm/v4/objects/contacts/{primary}/associations/companies", headers=headers)
    assert [r["toObjectId"] for r in companies.json()["results"]] in ([company], [int(company)])


async def test_merge_refuses_itself_and_unknown_ids(records):  # R-REC-10
    _, headers = await records.new_account()
    one = await create(records, headers, "contacts", email=email())
    itself = await records.client.post(f"{CONTACTS}/merge", headers=headers, json={
        "primaryObjectId": one, "objectIdToMerge": one})
    assert itself.status_code == 400
    unknown = await records.client.post(f"{CONTACTS}/merge", headers=headers, json={
        "primaryObjectId": one, "objectIdToMerge": "999999999"})
    assert unknown.status_code == 404


async def test_restore_works_within_the_window_and_refuses_after(records):  # R-REC-11
    account_id, headers = await records.new_account()
    address = email()
    kept = await create(records, headers, "contacts", email=address)
    late = await create(records, headers, "contacts", email=email())
    for record in (kept, late):
        assert (await records.client.delete(f"{CONTACTS}/{record}", headers=headers)
                ).status_code == 204
    listed = await records.client.get(CONTACTS, headers=headers, params={"archived": "true"})
    assert {r["id"] for r in listed.json()["results"]} == {kept, late}
    await records.sql("UPDATE records SET archived_at = now() - interval '91 days'"
                      " WHERE account_id = $1 AND record_id = $2", account_id, int(late))

    restored = await records.client.post(f"{CONTACTS}/{kept}/restore", headers=headers)
    assert restored.status_code == 200, restored.text
    assert restored.json()["archived"] is False
    assert (await records.client.get(f"{CONTACTS}/{kept}", headers=headers)).status_code == 200
    refused = await records.client.post(f"{CONTACTS}/{late}/restore", headers=headers)
    assert refused.status_code == 410 and "window" in refused.json()["message"]


async def test_gdpr_delete_by_email_erases_record_history_and_unique_value(records):
    # R-REC-11
    account_id, headers = await records.new_account()
    address = email()
    contact = await create(records, headers, "contacts", email=address, firstname="Gone")
    deleted = await records.client.post(f"{CONTACTS}/gdpr-delete", headers=headers, json={
        "objectId": address.upper(), "idProperty": "email"})
    assert deleted.status_code == 204, deleted.text
    for path in (f"{CONTACTS}/{contact}", f"{CONTACTS}/{contact}/history"):
        assert (await records.client.get(path, headers=headers)).status_code == 404
    assert (await records.client.get(f"{CONTACTS}/{contact}", headers=headers,
                                     params={"archived": "true"})).status_code == 404
    left = await records.sql(
        "SELECT (SELECT count(*) FROM records WHERE account_id = $1 AND record_id = $2)"
        " + (SELECT count(*) FROM property_history WHERE account_id = $1 AND record_id = $2)"
        " + (SELECT count(*) FROM unique_values WHERE account_id = $1 AND record_id = $2) AS n",
        account_id, int(contact))
    assert left[0]["n"] == 0
    again = await create(records, headers, "contacts", email=address)  # the address is free
    assert again != contact
    missing = await records.client.post(f"{CONTACTS}/gdpr-delete", headers=headers,
                                        json={"objectId": "999999999"})
    assert missing.status_code == 404
