"""Associations v4 and object create/read with associations, against the real
PostgreSQL and Kafka (R-REC-6, R-REC-7, R-REC-8, R-REC-9, R-AUTH-1)."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.integration

V4 = "/crm/v4/objects"


async def _make(records, headers, object_type, **properties):
    answer = await records.client.post(f"/crm/v3/objects/{object_type}",
                                       json={"properties": properties}, headers=headers)
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


async def test_labelled_association_both_directions_and_company_text_untouched(records):
    # R-REC-6
    _, h = await records.new_account("assoc")
    contact = await _make(records, h, "contacts", email="a@x.io", company="Typed Name Ltd")
    company = await _make(records, h, "companies", name="Acme")
    label = await records.client.post("/crm/v4/associations/contacts/companies/labels",
                                      json={"label": "Billing contact", "name": "billing"},
                                      headers=h)
    assert label.status_code == 200, label.text
    label_id = label.json()["results"][0]["typeId"]
    put = await records.client.put(
        f"{V4}/contacts/{contact}/associations/companies/{company}",
        json=[{"associationCategory": "USER_DEFINED", "associationTypeId": label_id}], headers=h)
    assert put.status_code == 201, put.text
    assert put.json()["labels"] == ["Billing contact"]
    assert put.json()["fromObjectTypeId"] == "0-1"

    forward = (await records.client.get(f"{V4}/contacts/{contact}/associations/companies",
                                        headers=h)).json()["results"]
    assert forward[0]["toObjectId"] == int(company)
    assert {t["typeId"] for t in forward[0]["associationTypes"]} == {279, label_id}
    backward = (await records.client.get(f"{V4}/companies/{company}/associations/contacts",
                                         headers=h)).json()["results"]
    assert backward[0]["toObjectId"] == int(contact)
    assert 280 in {t["typeId"] for t in backward[0]["associationTypes"]}

    read = (await records.client.get(f"/crm/v3/objects/contacts/{contact}",
                                     params={"associations": "companies"}, headers=h)).json()
    assert read["properties"]["company"] == "Typed Name Ltd"  # never changed by associations
    assert {r["id"] for r in read["associations"]["companies"]["results"]} == {company}


async def test_one_primary_company_per_contact_moves(records):
    # R-REC-6
    _, h = await records.new_account("primary")
    contact = await _make(records, h, "contacts", email="p@x.io")
    first = await _make(records, h, "companies", name="First")
    second = await _make(records, h, "companies", name="Second")
    primary = [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}]
    for company in (first, second):
        put = await records.client.put(
            f"{V4}/contacts/{contact}/associations/companies/{company}", json=primary, headers=h)
        assert put.status_code == 201, put.text
        assert put.json()["labels"] == ["Primary"]
    rows = (await records.client.get(f"{V4}/contacts/{contact}/associations/companies",
                                     headers=h)).json()["results"]
    types = {r["toObjectId"]: {t["typeId"] for t in r["associationTypes"]} for r in rows}
    assert types == {int(first): {279}, int(second): {279, 1}}
    from_company = (await records.client.get(f"{V4}/companies/{first}/associations/contacts",
                                             headers=h)).json()["results"]
    assert {t["typeId"] for t in from_company[0]["associationTypes"]} == {280}


async def test_another_accounts_ids_are_not_found_and_batches_report_them(records):
    # R-AUTH-1
    _, mine = await records.new_account("mine")
    _, theirs = await records.new_account("theirs")
    contact = await _make(records, mine, "contacts", email="m@x.io")
    foreign = await _make(records, theirs, "companies", name="Theirs")
    put = await records.client.put(f"{V4}/contacts/{contact}/associations/default/companies/"
                                   f"{foreign}", headers=mine)
    assert put.status_code == 404
    get = await records.client.get(f"{V4}/companies/{foreign}/associations/contacts",
                                   headers=mine)
    assert get.status_code == 404
    own = await _make(records, mine, "companies", name="Mine")
    batch = await records.client.post(
        "/crm/v4/associations/contacts/companies/batch/create", headers=mine, json={"inputs": [
            {"from": {"id": contact}, "to": {"id": own},
             "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}]},
            {"from": {"id": contact}, "to": {"id": foreign},
             "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}]}]})
    assert batch.status_code == 207, batch.text
    assert len(batch.json()["results"]) == 1 and batch.json()["numErrors"] == 1


async def test_default_batch_read_and_archive(records):
    # R-REC-6
    _, h = await records.new_account("batch")
    deal = await _make(records, h, "deals", dealname="D")
    contacts = [await _make(records, h, "contacts", email=f"c{i}@x.io") for i in range(2)]
    default = await records.client.put(
        f"{V4}/deals/{deal}/associations/default/contacts/{contacts[0]}", headers=h)
    assert default.status_code == 200, default.text
    assert default.json()["results"][0]["associationSpec"]["associationTypeId"] == 3
    await records.client.put(f"{V4}/deals/{deal}/associations/default/contacts/{contacts[1]}",
                             headers=h)
    read = await records.client.post("/crm/v4/associations/deals/contacts/batch/read",
                                     json={"inputs": [{"id": deal}]}, headers=h)
    assert read.status_code == 200
    assert {t["toObjectId"] for t in read.json()["results"][0]["to"]} == {
        int(c) for c in contacts}
    archive = await records.client.post(
        "/crm/v4/associations/deals/contacts/batch/archive", headers=h,
        json={"inputs": [{"from": {"id": deal}, "to": [{"id": contacts[0]}]}]})
    assert archive.status_code == 204
    left = (await records.client.get(f"{V4}/contacts/{contacts[0]}/associations/deals",
                                     headers=h)).json()["results"]
    assert left == []
    gone = await records.client.delete(
        f"{V4}/deals/{deal}/associations/contacts/{contacts[1]}", headers=h)
    assert gone.status_code == 204
    assert (await records.client.get(f"{V4}/deals/{deal}/associations/contacts",
                                     headers=h)).json()["results"] == []


async def test_create_with_associations_and_the_engagement_cap(records):
    # R-REC-7: at the cap the engagement is created but not associated, and the answer says so
    account_id, h = await records.new_account("cap")
    contact = await _make(records, h, "contacts", email="cap@x.io")
    note = await records.client.post("/crm/v3/objects/notes", headers=h, json={
        "properties": {"hs_timestamp": "2024-01-01T00:00:00Z", "hs_note_body": "first"},
        "associations": [{"to": {"id": contact}, "types": [
            {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}]}]})
    assert note.status_code == 201, note.text
    assert "X-CRM-Unassociated" not in note.headers
    # Fill the contact up to 10,000 engagements straight in the table.
    await records.sql(
        "INSERT INTO associations (account_id, from_type, from_id, to_type, to_id, type_id,"
        " created_at) SELECT $1, 'contacts', $2, 'notes', 900000000 + g, 201, now()"
        " FROM generate_series(1, 9999) g", account_id, int(contact))
    over = await records.client.post("/crm/v3/objects/notes", headers=h, json={
        "properties": {"hs_timestamp": "2024-01-02T00:00:00Z", "hs_note_body": "over"},
        "associations": [{"to": {"id": contact}, "types": [
            {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}]}]})
    assert over.status_code == 201, over.text
    left_out = json.loads(over.headers["X-CRM-Unassociated"])
    assert left_out[0]["toObjectId"] == contact
    created = await records.client.get(f"/crm/v3/objects/notes/{over.json()['id']}", headers=h)
    assert created.status_code == 200
    timeline = (await records.client.get(f"/crm/v3/objects/contacts/{contact}/timeline",
                                         headers=h)).json()["results"]
    assert [t["id"] for t in timeline] == [note.json()["id"]]


async def test_timeline_newest_first_paged_with_emails_by_address_sanitised(records):
    # R-REC-7, R-REC-8, R-REC-9
    _, h = await records.new_account("timeline")
    # Logged before the contact exists, to its address.
    early = await records.client.post("/crm/v3/objects/emails", headers=h, json={
        "properties": {"hs_timestamp": "2024-01-01T00:00:00Z", "hs_email_direction": "EMAIL",
                       "hs_email_to_email": "Pat <pat@x.io>",
                       "hs_email_html": '<p onclick="x()">Hi<img src="https://i.test/a.png">'
                                        "<script>alert(1)</script></p>"}})
    assert early.status_code == 201, early.text
    contact = await _make(records, h, "contacts", email="pat@x.io")
    for day in (2, 3):
        made = await records.client.post("/crm/v3/objects/notes", headers=h, json={
            "properties": {"hs_timestamp": f"2024-01-0{day}T00:00:00Z", "hs_note_body": "n"},
            "associations": [{"to": {"id": contact}, "types": [
                {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}]}]})
        assert made.status_code == 201, made.text
    first = (await records.client.get(f"/crm/v3/objects/contacts/{contact}/timeline",
                                      params={"limit": 2}, headers=h)).json()
    assert [r["timestamp"][:10] for r in first["results"]] == ["2024-01-03", "2024-01-02"]
    rest = (await records.client.get(f"/crm/v3/objects/contacts/{contact}/timeline",
                                     params={"limit": 2, "after": first["paging"]["next"]["after"]},
                                     headers=h)).json()
    assert [r["id"] for r in rest["results"]] == [early.json()["id"]]
    assert "paging" not in rest
    html = rest["results"][0]["properties"]["hs_email_html"]
    assert '<img src="https://i.test/a.png">' in html
    assert "script" not in html and "onclick" not in html
    # The address moves to another contact: the email follows the address.
    await records.client.patch(f"/crm/v3/objects/contacts/{contact}",
                               json={"properties": {"email": "pat@new.io"}}, headers=h)
    other = await _make(records, h, "contacts", email="pat@x.io")
    moved = (await records.client.get(f"/crm/v3/objects/contacts/{other}/timeline",
                                      headers=h)).json()["results"]
    assert [r["id"] for r in moved] == [early.json()["id"]]


async def test_contact_header_shows_the_primary_company_not_the_typed_one(records):
    # R-REC-5 R-REC-6
    _, h = await records.new_account("header")
    contact = await _make(records, h, "contacts", email="h@x.io", firstname="Ann",
                          lastname="Jansen", jobtitle="CTO", company="Typed Name Ltd")
    plain = await _make(records, h, "companies", name="Plain")
    main = await _make(records, h, "companies", name="Main Co")
    default = await records.client.put(
        f"{V4}/contacts/{contact}/associations/default/companies/{plain}", headers=h)
    assert default.status_code in (200, 201), default.text
    header = await records.client.get(f"/crm/v3/objects/contacts/{contact}/header", headers=h)
    assert header.json()["primaryCompany"] is None  # associated, but not primary
    primary = [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}]
    put = await records.client.put(f"{V4}/contacts/{contact}/associations/companies/{main}",
                                   json=primary, headers=h)
    assert put.status_code == 201, put.text
    header = await records.client.get(f"/crm/v3/objects/contacts/{contact}/header",
                                      params={"properties": "email"}, headers=h)  # fixed
    assert header.status_code == 200, header.text
    assert header.json() == {"firstname": "Ann", "lastname": "Jansen", "jobtitle": "CTO",
                             "primaryCompany": {"id": main, "name": "Main Co"}}
    missing = await records.client.get("/crm/v3/objects/contacts/999999999/header", headers=h)
    assert missing.status_code == 404


async def test_create_naming_a_company_twice_and_moving_the_primary_in_one_body(records):
    # R-REC-6: in the store, a company named twice in one create body keeps both types,
    # and the primary company moves to the last one named primary (the reads skipped
    # for a new record's pairs: unit/test_create_with_associations.py).
    _, h = await records.new_account("twice")
    first = await _make(records, h, "companies", name="First")
    second = await _make(records, h, "companies", name="Second")
    default = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}
    primary = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}
    created = await records.client.post("/crm/v3/objects/contacts", headers=h, json={
        "properties": {"email": "twice@x.io"},
        "associations": [{"to": {"id": first}, "types": [default]},
                         {"to": {"id": first}, "types": [primary]},
                         {"to": {"id": second}, "types": [primary]}]})
    assert created.status_code == 201, created.text
    contact = created.json()["id"]
    rows = (await records.client.get(f"{V4}/contacts/{contact}/associations/companies",
                                     headers=h)).json()["results"]
    types = {r["toObjectId"]: {t["typeId"] for t in r["associationTypes"]} for r in rows}
    assert types == {int(first): {279}, int(second): {279, 1}}
    back = (await records.client.get(f"{V4}/companies/{second}/associations/contacts",
                                     headers=h)).json()["results"]
    assert {t["typeId"] for t in back[0]["associationTypes"]} == {280, 2}
