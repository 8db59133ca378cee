"""Property definitions per account, validation against them, unique values and
user-type properties, through the HTTP API on the real store."""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.integration


def unique_email() -> str:
    return f"p-{uuid.uuid4().hex[:10]}@example.com"


async def test_standard_properties_are_listed_in_the_hosted_shape(records):  # R-REC-2
    _, headers = await records.new_account()
    answer = await records.client.get("/crm/v3/properties/contacts", headers=headers)
    assert answer.status_code == 200, answer.text
    by_name = {p["name"]: p for p in answer.json()["results"]}
    assert by_name["email"]["hasUniqueValue"] is True
    assert by_name["lifecyclestage"]["type"] == "enumeration"
    assert [o["value"] for o in by_name["lifecyclestage"]["options"]][:2] == [
        "subscriber", "lead"]
    assert by_name["hs_object_id"]["modificationMetadata"]["readOnlyValue"] is True
    assert by_name["hubspot_owner_id"]["referencedObjectType"] == "OWNER"
    groups = await records.client.get("/crm/v3/properties/contacts/groups", headers=headers)
    assert "contactinformation" in {g["name"] for g in groups.json()["results"]}


async def test_bad_values_answer_400_naming_each_property(records):  # R-REC-2
    _, headers = await records.new_account()
    answer = await records.client.post("/crm/v3/objects/deals", headers=headers, json={
        "properties": {"dealname": "Big", "amount": "lots", "closedate": "soon",
                       "nosuchthing": "x"}})
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["category"] == "VALIDATION_ERROR"
    named = {e["context"]["propertyName"][0]: e["code"] for e in body["errors"]}
    assert named == {"amount": "INVALID_NUMBER", "closedate": "INVALID_DATETIME",
                     "nosuchthing": "PROPERTY_DOESNT_EXIST"}


async def test_read_only_properties_are_refused(records):  # R-REC-2
    _, headers = await records.new_account()
    answer = await records.client.post("/crm/v3/objects/contacts", headers=headers, json={
        "properties": {"notes_last_contacted": "2024-01-01T00:00:00Z"}})
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["code"] == "READ_ONLY_VALUE"


async def test_values_are_stored_in_their_normal_form(records):  # R-REC-2
    _, headers = await records.new_account()
    answer = await records.client.post("/crm/v3/objects/deals", headers=headers, json={
        "properties": {"dealname": "Norm", "amount": 1500.50, "closedate": 1714521600000}})
    assert answer.status_code == 201, answer.text
    props = answer.json()["properties"]
    assert props["amount"] == "1500.5"
    assert props["closedate"] == "2024-05-01T00:00:00.000Z"


async def test_a_second_contact_with_the_same_email_is_refused(records):  # R-REC-2
    _, headers = await records.new_account()
    email = unique_email()
    first = await records.client.post("/crm/v3/objects/contacts", headers=headers,
                                      json={"properties": {"email": email}})
    assert first.status_code == 201, first.text
    again = await records.client.post("/crm/v3/objects/contacts", headers=headers,
                                      json={"properties": {"email": email.upper()}})
    assert again.status_code == 409, again.text
    assert f"Existing ID: {first.json()['id']}" in again.json()["message"]
    # Twice in one batch is refused too, and nothing of the batch is stored.
    other = unique_email()
    batch = await records.client.post(
        "/crm/v3/objects/contacts/batch/create", headers=headers,
        json={"inputs": [{"properties": {"email": other}}, {"properties": {"email": other}}]})
    assert batch.status_code == 409
    # Archiving frees the address; another account never collides.
    archived = await records.client.delete(f"/crm/v3/objects/contacts/{first.json()['id']}",
                                           headers=headers)
    assert archived.status_code == 204
    reused = await records.client.post("/crm/v3/objects/contacts", headers=headers,
                                       json={"properties": {"email": email}})
    assert reused.status_code == 201, reused.text
    _, elsewhere = await records.new_account()
    assert (await records.client.post("/crm/v3/objects/contacts", headers=elsewhere,
                                      json={"properties": {"email": email}})).status_code == 201


async def test_changing_a_unique_value_frees_the_old_one(records):  # R-REC-2
    _, headers = await records.new_account()
    old, new = unique_email(), unique_email()
    created = await records.client.post("/crm/v3/objects/contacts", headers=headers,
                                        json={"properties": {"email": old}})
    updated = await records.client.patch(f"/crm/v3/objects/contacts/{created.json()['id']}",
                                         headers=headers, json={"properties": {"email": new}})
    assert updated.status_code == 200, updated.text
    reused = await records.client.post("/crm/v3/objects/contacts", headers=headers,
                                       json={"properties": {"email": old}})
    assert reused.status_code == 201
    taken = await records.client.post("/crm/v3/objects/contacts", headers=headers,
                                      json={"properties": {"email": new}})
    assert taken.status_code == 409


async def test_custom_property_lifecycle_and_its_events(records):  # R-REC-2
    _, headers = await records.new_account()
    created = await records.client.post("/crm/v3/properties/deals", headers=headers, json={
        "name": "tier", "label": "Tier", "type": "enumeration", "fieldType": "select",
        "groupName": "dealinformation",
        "options": [{"label": "Gold", "value": "gold"}, {"label": "Silver", "value": "silver"}]})
    assert created.status_code == 201, created.text
    assert created.json()["hubspotDefined"] is False
    duplicate = await records.client.post("/crm/v3/properties/deals", headers=headers, json={
        "name": "tier", "label": "Tier", "type": "string", "fieldType": "text",
        "groupName": "dealinformation"})
    assert duplicate.status_code == 409
    bad = await records.client.post("/crm/v3/objects/deals", headers=headers,
                                    json={"properties": {"tier": "bronze"}})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["context"]["propertyName"] == ["tier"]
    patched = await records.client.patch("/crm/v3/properties/deals/tier", headers=headers, json={
        "options": [{"label": "Gold", "value": "gold"}, {"label": "Bronze", "value": "bronze"}]})
    assert patched.status_code == 200, patched.text
    good = await records.client.post("/crm/v3/objects/deals", headers=headers,
                                     json={"properties": {"tier": "bronze"}})
    assert good.status_code == 201, good.text
    assert (await records.client.delete("/crm/v3/properties/deals/tier",
                                        headers=headers)).status_code == 204
    gone = await records.client.get("/crm/v3/properties/deals/tier", headers=headers)
    assert gone.status_code == 404
    shown = await records.client.get("/crm/v3/properties/deals/tier?archived=true",
                                     headers=headers)
    assert shown.status_code == 200 and shown.json()["archived"] is True
    refused = await records.client.delete("/crm/v3/properties/deals/dealname", headers=headers)
    assert refused.status_code == 400


async def test_user_properties_accept_only_users_of_the_account(records):  # R-REC-3
    _, admin, headers = await records.new_account_and_admin()
    _, stranger, _ = await records.new_account_and_admin()
    owned = await records.client.post("/crm/v3/objects/contacts", headers=headers, json={
        "properties": {"hubspot_owner_id": admin}})
    assert owned.status_code == 201, owned.text
    assert owned.json()["properties"]["hubspot_owner_id"] == str(admin)
    refused = await records.client.post("/crm/v3/objects/contacts", headers=headers, json={
        "properties": {"hubspot_owner_id": stranger}})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["context"]["propertyName"] == ["hubspot_owner_id"]
    created = await records.client.post("/crm/v3/properties/contacts", headers=headers, json={
        "name": "csm", "label": "CSM", "type": "enumeration", "fieldType": "select",
        "groupName": "contactinformation", "referencedObjectType": "OWNER"})
    assert created.status_code == 201, created.text
    assert (await records.client.post("/crm/v3/objects/contacts", headers=headers, json={
        "properties": {"csm": stranger}})).status_code == 400
    assert (await records.client.post("/crm/v3/objects/contacts", headers=headers, json={
        "properties": {"csm": admin}})).status_code == 201


async def test_a_nul_character_is_refused_and_nothing_is_written(records):  # R-REC-2
    # Found by the schema fuzzer: PostgreSQL text cannot hold U+0000, and the store's
    # refusal surfaced as a 500. It is the input's fault: 400, and no record stored.
    _, headers = await records.new_account()
    name = f"nul_{uuid.uuid4().hex[:8]}"
    answer = await records.client.post("/crm/v3/properties/contacts", headers=headers, json={
        "name": name, "label": "A\x00B", "type": "string", "fieldType": "text",
        "groupName": "contactinformation"})
    assert answer.status_code == 400, answer.text
    assert "NUL" in answer.json()["message"]
    listed = await records.client.get(f"/crm/v3/properties/contacts/{name}", headers=headers)
    assert listed.status_code == 404
    created = await records.client.post("/crm/v3/objects/contacts", headers=headers, json={
        "properties": {"email": unique_email(), "firstname": "Nul\x00"}})
    assert created.status_code == 400, created.text


async def test_the_catalogue_a_write_checks_is_never_stale(records):  # R-REC-2
    """Writes check values against a catalogue the process keeps under a version the
    store changes with every definition write (migration 0053). A property created,
    then removed behind the process's back (as another replica would), is known, then
    unknown, at once."""
    account, headers = await records.new_account()
    name = f"cached_{uuid.uuid4().hex[:8]}"

    async def write() -> int:
        answer = await records.client.post("/crm/v3/objects/contacts", headers=headers,
                                           json={"properties": {name: "x"}})
        return answer.status_code

    assert await write() == 400  # the catalogue is read and kept: no such property
    created = await records.client.post("/crm/v3/properties/contacts", headers=headers, json={
        "name": name, "label": "Cached", "type": "string", "fieldType": "text",
        "groupName": "contactinformation"})
    assert created.status_code == 201, created.text
    assert await write() == 201
    versions = await records.sql(
        "SELECT version FROM property_catalog_versions WHERE account_id = $1"
        " AND object_type = 'contacts'", account)
    await records.sql("DELETE FROM property_definitions WHERE account_id = $1"
                      " AND object_type = 'contacts' AND name = $2", account, name)
    assert await write() == 400
    after = await records.sql(
        "SELECT version FROM property_catalog_versions WHERE account_id = $1"
        " AND object_type = 'contacts'", account)
    assert len(versions) == len(after) == 1 and versions[0] != after[0]
