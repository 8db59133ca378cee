"""Batch upsert and custom object schemas through the HTTP API on the real store
(R-REC-1): records of a new type through every name of it, its own properties,
upsert by a unique property, concurrent upserts of one new value."""

from __future__ import annotations

import asyncio
import uuid

import pytest

pytestmark = pytest.mark.integration


def unique_email() -> str:
    return f"u-{uuid.uuid4().hex[:10]}@example.com"


async def test_batch_upsert_creates_and_updates_by_email(records):  # R-REC-1
    _, headers = await records.new_account()
    known, fresh = unique_email(), unique_email()
    made = await records.client.post("/crm/v3/objects/contacts", headers=headers,
                                     json={"properties": {"email": known, "firstname": "K"}})
    assert made.status_code == 201, made.text
    answer = await records.client.post(
        "/crm/v3/objects/contacts/batch/upsert", headers=headers, json={"inputs": [
            {"idProperty": "email", "id": fresh, "properties": {"firstname": "F"}},
            {"idProperty": "email", "id": known.upper(), "properties": {"lastname": "Known"}}]})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "COMPLETE"
    assert [r["new"] for r in body["results"]] == [True, False]
    assert body["results"][0]["properties"]["email"] == fresh
    assert body["results"][1]["id"] == made.json()["id"]
    read = await records.client.get(f"/crm/v3/objects/contacts/{made.json()['id']}",
                                    headers=headers)
    assert read.json()["properties"]["lastname"] == "Known"
    assert read.json()["properties"]["firstname"] == "K"
    not_unique = await records.client.post(
        "/crm/v3/objects/contacts/batch/upsert", headers=headers, json={"inputs": [
            {"idProperty": "firstname", "id": "Ann", "properties": {}}]})
    assert not_unique.status_code == 400
    assert not_unique.json()["errors"][0]["context"]["propertyName"] == ["firstname"]
    too_many = await records.client.post(
        "/crm/v3/objects/contacts/batch/upsert", headers=headers, json={"inputs": [
            {"idProperty": "email", "id": unique_email()} for _ in range(101)]})
    assert too_many.status_code == 400


async def test_concurrent_upserts_of_one_new_value_make_one_record(records):  # R-REC-1
    _, headers = await records.new_account()
    address = unique_email()
    answers = await asyncio.gather(*(records.client.post(
        "/crm/v3/objects/contacts/batch/upsert", headers=headers, json={"inputs": [
            {"idProperty": "email", "id": address, "properties": {"firstname": f"n{i}"}}]})
        for i in range(4)))
    assert [a.status_code for a in answers] == [200] * 4
    assert len({a.json()["results"][0]["id"] for a in answers}) == 1
    assert sorted(a.json()["results"][0]["new"] for a in answers) == [False] * 3 + [True]


SCHEMA = {
    "name": "cars", "labels": {"singular": "Car", "plural": "Cars"},
    "primaryDisplayProperty": "model", "requiredProperties": ["model"],
    "searchableProperties": ["model", "vin"], "secondaryDisplayProperties": ["year"],
    "associatedObjects": ["CONTACT"],
    "properties": [
        {"name": "model", "label": "Model", "type": "string", "fieldType": "text"},
        {"name": "vin", "label": "VIN", "type": "string", "fieldType": "text",
         "hasUniqueValue": True},
        {"name": "year", "label": "Year", "type": "number", "fieldType": "number"},
    ]}


async def test_a_custom_object_works_through_every_name_of_it(records):  # R-REC-1, R-REC-2
    _, headers = await records.new_account()
    made = await records.client.post("/crm/v3/schemas", headers=headers, json=SCHEMA)
    assert made.status_code == 201, made.text
    schema = made.json()
    type_id = schema["objectTypeId"]
    assert type_id.startswith("2-") and schema["fullyQualifiedName"] == "p_cars"
    names = {p["name"] for p in schema["properties"]}
    assert {"model", "vin", "year", "hs_object_id", "hubspot_owner_id",
            "hs_pipeline_stage"} <= names
    again = await records.client.post("/crm/v3/schemas", headers=headers, json=SCHEMA)
    assert again.status_code == 409
    car = await records.client.post(f"/crm/v3/objects/{type_id}", headers=headers,
                                    json={"properties": {"model": "T", "vin": "V1",
                                                         "year": 1925}})
    assert car.status_code == 201, car.text
    car_id = car.json()["id"]
    for name in (type_id, "cars", "p_cars", "P123_cars"):
        read = await records.client.get(f"/crm/v3/objects/{name}/{car_id}", headers=headers)
        assert read.status_code == 200, (name, read.text)
        assert read.json()["properties"]["year"] == "1925"
    bad = await records.client.post("/crm/v3/objects/p_cars", headers=headers,
                                    json={"properties": {"year": "old"}})
    assert bad.status_code == 400 and bad.json()["errors"][0]["context"]["propertyName"] == [
        "year"]
    upserted = await records.client.post(
        "/crm/v3/objects/p_cars/batch/upsert", headers=headers, json={"inputs": [
            {"idProperty": "vin", "id": "V1", "properties": {"model": "A"}},
            {"idProperty": "vin", "id": "V2", "properties": {"model": "B"}}]})
    assert upserted.status_code == 200, upserted.text
    assert [(r["id"] == car_id, r["new"]) for r in upserted.json()["results"]] == [
        (True, False), (False, True)]
    page = await records.client.get("/crm/v3/objects/cars?limit=10", headers=headers)
    assert len(page.json()["results"]) == 2
    props = await records.client.get(f"/crm/v3/properties/{type_id}/vin", headers=headers)
    assert props.status_code == 200 and props.json()["hasUniqueValue"] is True
    # Another account does not know the type at all.
    _, stranger = await records.new_account()
    assert (await records.client.get(f"/crm/v3/objects/cars/{car_id}",
                                     headers=stranger)).status_code in (400, 404)
    assert (await records.client.get(f"/crm/v3/schemas/{type_id}",
                                     headers=stranger)).status_code == 404


async def test_schemas_are_listed_updated_and_archived_when_empty(records):  # R-REC-1
    _, headers = await records.new_account()
    made = (await records.client.post("/crm/v3/schemas", headers=headers, json={
        **SCHEMA, "name": "boats"})).json()
    listed = await records.client.get("/crm/v3/schemas", headers=headers)
    assert [s["name"] for s in listed.json()["results"]] == ["boats"]
    patched = await records.client.patch(
        f"/crm/v3/schemas/{made['objectTypeId']}", headers=headers,
        json={"labels": {"singular": "Boat", "plural": "Boats"},
              "primaryDisplayProperty": "vin"})
    assert patched.status_code == 200, patched.text
    assert patched.json()["labels"]["plural"] == "Boats"
    assert patched.json()["primaryDisplayProperty"] == "vin"
    unknown = await records.client.patch(f"/crm/v3/schemas/{made['objectTypeId']}",
                                         headers=headers,
                                         json={"primaryDisplayProperty": "colour"})
    assert unknown.status_code == 400
    boat = (await records.client.post("/crm/v3/objects/boats", headers=headers,
                                      json={"properties": {"model": "X"}})).json()
    held = await records.client.delete("/crm/v3/schemas/boats", headers=headers)
    assert held.status_code == 409
    await records.client.delete(f"/crm/v3/objects/boats/{boat['id']}", headers=headers)
    gone = await records.client.delete("/crm/v3/schemas/p_boats", headers=headers)
    assert gone.status_code == 204
    assert (await records.client.get("/crm/v3/schemas/boats",
                                     headers=headers)).status_code == 404
    assert (await records.client.get("/crm/v3/objects/boats",
                                     headers=headers)).status_code == 400
    archived = await records.client.get("/crm/v3/schemas?archived=true", headers=headers)
    assert [s["name"] for s in archived.json()["results"]] == ["boats"]


async def test_a_schema_naming_what_it_lacks_is_refused(records):  # R-REC-1
    _, headers = await records.new_account()
    answer = await records.client.post("/crm/v3/schemas", headers=headers, json={
        **SCHEMA, "name": "contacts", "requiredProperties": ["nope"]})
    assert answer.status_code == 400
    assert "contacts" in answer.json()["message"] and "nope" in answer.json()["message"]


async def test_schemas_answer_at_the_path_the_official_sdk_calls(records):  # R-REC-1
    # Regression: the SDK's schemas client calls /crm-object-schemas/v3/schemas.
    _, headers = await records.new_account()
    sdk_path = "/crm-object-schemas/v3/schemas"
    made = await records.client.post(sdk_path, headers=headers, json=SCHEMA)
    assert made.status_code == 201, made.text
    type_id = made.json()["objectTypeId"]
    for path in (f"{sdk_path}/{type_id}", f"/crm/v3/schemas/{type_id}"):
        read = await records.client.get(path, headers=headers)
        assert read.status_code == 200 and read.json()["name"] == "cars", read.text
    listed = await records.client.get(sdk_path, headers=headers)
    assert [s["objectTypeId"] for s in listed.json()["results"]] == [type_id]
