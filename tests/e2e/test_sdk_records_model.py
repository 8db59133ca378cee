"""The hosted CRM's official SDK against our gateway: property definitions,
validation errors, batch writes and pipelines (issue 3)."""

from __future__ import annotations

import uuid

import pytest
from hubspot import HubSpot
from hubspot.crm.contacts import (
    BatchInputSimplePublicObjectBatchInput,
    BatchInputSimplePublicObjectBatchInputForCreate,
    BatchReadInputSimplePublicObjectId,
    SimplePublicObjectBatchInput,
    SimplePublicObjectBatchInputForCreate,
    SimplePublicObjectId,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.contacts.exceptions import ApiException
from hubspot.crm.pipelines import PipelineStagePatchInput
from hubspot.crm.properties import OptionInput, PropertyCreate, PropertyUpdate

pytestmark = pytest.mark.e2e


def test_sdk_properties_and_validation(gateway_url, new_account):  # R-REC-2
    _, token = new_account()
    client = HubSpot(access_token=token, host=gateway_url)
    listed = client.crm.properties.core_api.get_all("contacts")
    assert "email" in {p.name for p in listed.results}
    created = client.crm.properties.core_api.create("contacts", PropertyCreate(
        name="plan", label="Plan", type="enumeration", field_type="select",
        group_name="contactinformation",
        options=[OptionInput(label="Free", value="free", display_order=0, hidden=False)]))
    assert created.name == "plan" and created.options[0].value == "free"
    client.crm.properties.core_api.update("contacts", "plan", PropertyUpdate(options=[
        OptionInput(label="Free", value="free", display_order=0, hidden=False),
        OptionInput(label="Pro", value="pro", display_order=1, hidden=False)]))
    contact = client.crm.contacts.basic_api.create(SimplePublicObjectInputForCreate(
        properties={"email": f"e-{uuid.uuid4().hex[:8]}@example.com", "plan": "pro"}))
    assert contact.properties["plan"] == "pro"
    with pytest.raises(ApiException) as refused:
        client.crm.contacts.basic_api.create(SimplePublicObjectInputForCreate(
            properties={"plan": "gold"}))
    assert refused.value.status == 400 and "plan" in refused.value.body


def test_sdk_batch_create_read_update(gateway_url, new_account):  # R-REC-1
    _, token = new_account()
    client = HubSpot(access_token=token, host=gateway_url)
    emails = [f"b{i}-{uuid.uuid4().hex[:8]}@example.com" for i in range(3)]
    created = client.crm.contacts.batch_api.create(BatchInputSimplePublicObjectBatchInputForCreate(
        inputs=[SimplePublicObjectBatchInputForCreate(properties={"email": e}) for e in emails]))
    ids = [r.id for r in created.results]
    assert len(ids) == 3
    client.crm.contacts.batch_api.update(BatchInputSimplePublicObjectBatchInput(inputs=[
        SimplePublicObjectBatchInput(id=i, properties={"jobtitle": "CEO"}) for i in ids]))
    read = client.crm.contacts.batch_api.read(BatchReadInputSimplePublicObjectId(
        inputs=[SimplePublicObjectId(id=i) for i in ids], properties=["jobtitle"],
        properties_with_history=["jobtitle"]))
    assert {r.properties["jobtitle"] for r in read.results} == {"CEO"}
    assert all(r.properties_with_history["jobtitle"][0].value == "CEO" for r in read.results)


def test_sdk_pipelines_and_required_stage_properties(gateway_url, new_account):  # R-PIPE-1/2
    _, token = new_account()
    client = HubSpot(access_token=token, host=gateway_url)
    [pipeline] = client.crm.pipelines.pipelines_api.get_all("deals").results
    assert "closedwon" in {s.id for s in pipeline.stages}
    client.crm.pipelines.pipeline_stages_api.update(
        "deals", "default", "contractsent",
        PipelineStagePatchInput(metadata={"requiredProperties": "amount"}))
    from hubspot.crm.deals import SimplePublicObjectInput as DealInput
    from hubspot.crm.deals import SimplePublicObjectInputForCreate as DealCreate
    from hubspot.crm.deals.exceptions import ApiException as DealApiException
    deal = client.crm.deals.basic_api.create(DealCreate(properties={
        "dealname": "SDK", "dealstage": "appointmentscheduled"}))
    with pytest.raises(DealApiException) as refused:
        client.crm.deals.basic_api.update(deal.id, DealInput(properties={
            "dealstage": "contractsent"}))
    assert refused.value.status == 400 and "amount" in refused.value.body
    moved = client.crm.deals.basic_api.update(deal.id, DealInput(properties={
        "dealstage": "contractsent", "amount": "100"}))
    assert moved.properties["dealstage"] == "contractsent"
