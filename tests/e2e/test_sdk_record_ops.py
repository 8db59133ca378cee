"""The hosted CRM's official SDK against our gateway: merge, batch upsert by
email and custom objects (R-REC-10, R-REC-1). Where the SDK and our API
disagreed, the hosted shape won (regression tests in services/records)."""

from __future__ import annotations

import uuid

import pytest
from hubspot import HubSpot
from hubspot.crm.contacts import (
    BatchInputSimplePublicObjectBatchInputUpsert,
    PublicMergeInput,
    SimplePublicObjectBatchInputUpsert,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.objects import SimplePublicObjectInputForCreate as ObjectInputForCreate
from hubspot.crm.schemas import (
    ObjectSchemaEgg,
    ObjectTypeDefinitionLabels,
    ObjectTypePropertyCreate,
)

pytestmark = pytest.mark.e2e


def _email(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}@example.com"


def test_sdk_merge_keeps_the_primary_and_answers_it_for_the_merged_id(gateway_url, new_account):
    # R-REC-10
    _, token = new_account()
    client = HubSpot(access_token=token, host=gateway_url)
    contacts = client.crm.contacts.basic_api
    primary = contacts.create(SimplePublicObjectInputForCreate(
        properties={"email": _email("keep"), "firstname": "Ada"}))
    secondary = contacts.create(SimplePublicObjectInputForCreate(
        properties={"email": _email("gone"), "lastname": "Lovelace"}))
    merged = contacts.merge(PublicMergeInput(primary_object_id=primary.id,
                                             object_id_to_merge=secondary.id))
    assert merged.id == primary.id
    assert merged.properties["firstname"] == "Ada"
    assert merged.properties["lastname"] == "Lovelace"  # filled from the secondary
    again = contacts.get_by_id(secondary.id, properties=["lastname"])
    assert again.id == primary.id and again.properties["lastname"] == "Lovelace"


def test_sdk_batch_upsert_by_email_updates_the_known_and_creates_the_new(gateway_url,
                                                                       new_account):
    # R-REC-1
    _, token = new_account()
    client = HubSpot(access_token=token, host=gateway_url)
    known_email = _email("known")
    known = client.crm.contacts.basic_api.create(SimplePublicObjectInputForCreate(
        properties={"email": known_email, "firstname": "Old"}))
    new_email = _email("new")
    answer = client.crm.contacts.batch_api.upsert(BatchInputSimplePublicObjectBatchInputUpsert(
        inputs=[
            SimplePublicObjectBatchInputUpsert(id_property="email", id=known_email.upper(),
                                               properties={"firstname": "New"}),
            SimplePublicObjectBatchInputUpsert(id_property="email", id=new_email,
                                               properties={"firstname": "Fresh"})]))
    assert answer.status == "COMPLETE"
    by_email = {r.properties["email"]: r for r in answer.results}
    assert by_email[known_email].id == known.id
    assert by_email[known_email].properties["firstname"] == "New"
    assert by_email[known_email].new is False and by_email[new_email].new is True
    created = client.crm.contacts.basic_api.get_by_id(by_email[new_email].id,
                                                      properties=["firstname", "email"])
    assert (created.properties["firstname"], created.properties["email"]) == ("Fresh", new_email)


def test_sdk_custom_object_schema_then_records_of_the_new_type(gateway_url, new_account):
    # R-REC-1. The SDK's schemas client calls /crm-object-schemas/v3/schemas, which
    # records serves and the gateway must route to records (deploy/local/nginx/routes.conf).
    _, token = new_account()
    client = HubSpot(access_token=token, host=gateway_url)
    schema = client.crm.schemas.core_api.create(ObjectSchemaEgg(
        name="cars", labels=ObjectTypeDefinitionLabels(singular="Car", plural="Cars"),
        primary_display_property="model", required_properties=["model"],
        searchable_properties=["model"], secondary_display_properties=["year"],
        associated_objects=["CONTACT"],
        properties=[
            ObjectTypePropertyCreate(name="model", label="Model", type="string",
                                     field_type="text"),
            ObjectTypePropertyCreate(name="year", label="Year", type="number",
                                     field_type="number")]))
    assert schema.object_type_id.startswith("2-") and schema.name == "cars"
    assert {"model", "year"} <= {p.name for p in schema.properties}
    fetched = client.crm.schemas.core_api.get_by_id(schema.object_type_id)
    assert fetched.id == schema.id
    objects = client.crm.objects.basic_api
    car = objects.create(schema.object_type_id, ObjectInputForCreate(
        properties={"model": "Beetle", "year": "1972"}))
    assert car.properties["model"] == "Beetle"
    for object_type in (schema.object_type_id, "cars", schema.fully_qualified_name):
        read = objects.get_by_id(object_type, car.id, properties=["model", "year"])
        assert read.id == car.id
        assert (read.properties["model"], read.properties["year"]) == ("Beetle", "1972")
