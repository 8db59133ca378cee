"""The hosted CRM's official SDK (`crm.associations.v4`) against our gateway:
labelled and default associations, pages, batches, labels, the primary
company, and objects created and read with associations (R-REC-6, R-REC-7)."""

from __future__ import annotations

import uuid

import pytest
from hubspot import HubSpot
from hubspot.crm.associations.v4 import (
    AssociationSpec,
    BatchInputPublicAssociationMultiArchive,
    BatchInputPublicAssociationMultiPost,
    BatchInputPublicFetchAssociationsBatchRequest,
    PublicAssociationMultiArchive,
    PublicAssociationMultiPost,
    PublicFetchAssociationsBatchRequest,
    PublicObjectId,
)
from hubspot.crm.associations.v4.exceptions import ApiException
from hubspot.crm.associations.v4.schema import PublicAssociationDefinitionCreateRequest
from hubspot.crm.contacts import SimplePublicObjectInputForCreate
from hubspot.crm.objects.notes import (
    AssociationSpec as NoteAssociationSpec,
)
from hubspot.crm.objects.notes import (
    PublicAssociationsForObject,
)
from hubspot.crm.objects.notes import (
    PublicObjectId as NoteObjectId,
)
from hubspot.crm.objects.notes import (
    SimplePublicObjectInputForCreate as NoteInput,
)

pytestmark = pytest.mark.e2e


def _contact(client: HubSpot, **properties: str) -> str:
    properties.setdefault("email", f"a-{uuid.uuid4().hex[:8]}@example.com")
    return client.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(properties=properties)).id


def _company(client: HubSpot, name: str) -> str:
    from hubspot.crm.companies import SimplePublicObjectInputForCreate as CompanyInput
    return client.crm.companies.basic_api.create(CompanyInput(properties={"name": name})).id


def test_sdk_labelled_default_primary_and_pages(gateway_url, new_account):  # R-REC-6
    _, token = new_account()
    client = HubSpot(access_token=token, host=gateway_url)
    v4 = client.crm.associations.v4
    contact = _contact(client, company="Free Text Inc")
    first, second = _company(client, "First"), _company(client, "Second")

    label = v4.schema.definitions_api.create("contacts", "companies",
                                             PublicAssociationDefinitionCreateRequest(
                                                 label="Decision maker", name="decider"))
    label_id = label.results[0].type_id
    made = v4.basic_api.create("contacts", contact, "companies", first, [
        AssociationSpec(association_category="USER_DEFINED", association_type_id=label_id),
        AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=1)])
    assert set(made.labels) == {"Decision maker", "Primary"}
    v4.basic_api.create("contacts", contact, "companies", second, [
        AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=1)])

    page = v4.basic_api.get_page("contacts", contact, "companies")
    types = {str(r.to_object_id): {t.type_id for t in r.association_types}
             for r in page.results}
    assert types == {first: {279, label_id}, second: {279, 1}}  # the primary moved
    back = v4.basic_api.get_page("companies", second, "contacts")
    assert {t.type_id for t in back.results[0].association_types} == {280, 2}

    read = client.crm.contacts.basic_api.get_by_id(contact, associations=["companies"])
    assert read.properties["company"] == "Free Text Inc"  # untouched by associations
    assert {a.id for a in read.associations["companies"].results} == {first, second}

    v4.basic_api.archive("contacts", contact, "companies", first)
    assert [str(r.to_object_id) for r in v4.basic_api.get_page(
        "contacts", contact, "companies").results] == [second]
    labels = v4.schema.definitions_api.get_all("contacts", "companies")
    assert {279, 1, label_id} <= {t.type_id for t in labels.results}


def test_sdk_batches_and_default(gateway_url, new_account):  # R-REC-6, R-AUTH-1
    _, token = new_account()
    client = HubSpot(access_token=token, host=gateway_url)
    v4 = client.crm.associations.v4
    contacts = [_contact(client) for _ in range(2)]
    company = _company(client, "Batch Co")
    default = v4.basic_api.create_default("companies", company, "contacts", contacts[0])
    assert default.results[0].association_spec.association_type_id == 280
    created = v4.batch_api.create("companies", "contacts", BatchInputPublicAssociationMultiPost(
        inputs=[PublicAssociationMultiPost(
            _from=PublicObjectId(id=company), to=PublicObjectId(id=contacts[1]),
            types=[AssociationSpec(association_category="HUBSPOT_DEFINED",
                                   association_type_id=280)])]))
    assert created.status == "COMPLETE" and len(created.results) == 1
    read = v4.batch_api.get_page("companies", "contacts",
                                 BatchInputPublicFetchAssociationsBatchRequest(
                                     inputs=[PublicFetchAssociationsBatchRequest(id=company)]))
    assert {str(t.to_object_id) for t in read.results[0].to} == set(contacts)
    v4.batch_api.archive("companies", "contacts", BatchInputPublicAssociationMultiArchive(
        inputs=[PublicAssociationMultiArchive(_from=PublicObjectId(id=company),
                                              to=[PublicObjectId(id=c) for c in contacts])]))
    assert v4.basic_api.get_page("companies", company, "contacts").results == []

    _, other_token = new_account("other")
    other = HubSpot(access_token=other_token, host=gateway_url)
    with pytest.raises(ApiException) as refused:
        other.crm.associations.v4.basic_api.create_default("companies", company, "contacts",
                                                           _contact(other))
    assert refused.value.status == 404


def test_sdk_note_created_with_its_association(gateway_url, new_account):  # R-REC-7
    _, token = new_account()
    client = HubSpot(access_token=token, host=gateway_url)
    contact = _contact(client)
    note = client.crm.objects.notes.basic_api.create(NoteInput(
        properties={"hs_timestamp": "2024-03-01T10:00:00Z", "hs_note_body": "Called back"},
        associations=[PublicAssociationsForObject(
            to=NoteObjectId(id=contact),
            types=[NoteAssociationSpec(association_category="HUBSPOT_DEFINED",
                                       association_type_id=202)])]))
    page = client.crm.associations.v4.basic_api.get_page("contacts", contact, "notes")
    assert [str(r.to_object_id) for r in page.results] == [note.id]
