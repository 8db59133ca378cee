"""The hosted CRM's official Python SDK, pointed at our gateway, creates a
contact and then finds it through search (the walking skeleton's promise)."""

from __future__ import annotations

import time
import uuid

import pytest
from hubspot import HubSpot
from hubspot.crm.contacts import (
    Filter,
    FilterGroup,
    PublicObjectSearchRequest,
    SimplePublicObjectInputForCreate,
)

pytestmark = pytest.mark.e2e


def test_sdk_creates_a_contact_and_finds_it_by_search(gateway_url, new_account):  # R-REC-1 R-SRCH-1
    _, token = new_account()
    client = HubSpot(access_token=token, host=gateway_url)
    email = f"sdk-{uuid.uuid4().hex[:8]}@example.com"

    created = client.crm.contacts.basic_api.create(SimplePublicObjectInputForCreate(
        properties={"email": email, "firstname": "Sam", "lastname": "Dk"}))
    assert created is not None and created.id
    assert created.properties["email"] == email

    read = client.crm.contacts.basic_api.get_by_id(created.id, properties=["email", "firstname"])
    assert read.properties["firstname"] == "Sam"

    request = PublicObjectSearchRequest(
        filter_groups=[FilterGroup(filters=[Filter(property_name="email", operator="EQ",
                                                   value=email)])],
        properties=["email", "firstname"], limit=10)
    deadline = time.monotonic() + 30
    while True:
        page = client.crm.contacts.search_api.do_search(public_object_search_request=request)
        if page.total or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert page.total == 1
    assert page.results[0].id == created.id
    assert page.results[0].properties["firstname"] == "Sam"


def test_sdk_updates_and_archives_a_contact(gateway_url, new_account):  # R-REC-1
    _, token = new_account()
    client = HubSpot(access_token=token, host=gateway_url)
    created = client.crm.contacts.basic_api.create(SimplePublicObjectInputForCreate(
        properties={"email": f"u-{uuid.uuid4().hex[:8]}@example.com"}))
    from hubspot.crm.contacts import SimplePublicObjectInput
    updated = client.crm.contacts.basic_api.update(
        created.id, SimplePublicObjectInput(properties={"jobtitle": "CTO"}))
    assert updated.properties["jobtitle"] == "CTO"
    client.crm.contacts.basic_api.archive(created.id)
    from hubspot.crm.contacts.exceptions import NotFoundException
    with pytest.raises(NotFoundException):
        client.crm.contacts.basic_api.get_by_id(created.id)
