"""Forms, analytics identity, lists and email to a list through the HTTP API,
on the real PostgreSQL, Redis and Kafka (the list-membership consumer runs)."""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid

import pytest
from aiokafka import AIOKafkaConsumer

from crm_contracts import topics
from crm_platform.testing import commit_group_at_end, eventually

pytestmark = pytest.mark.integration
KAFKA = os.environ.get("RECORDS_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092")


def _cookie() -> str:
    return uuid.uuid4().hex


async def _form(records, headers, **flags) -> str:
    fields = [{"name": "email", "fieldType": "email"}, {"name": "firstname"},
              {"name": "city"}]
    created = await records.client.post("/crm/v3/forms", headers=headers, json={
        "name": f"Form {uuid.uuid4().hex[:6]}", "fields": fields, **flags})
    assert created.status_code == 201, created.text
    return created.json()["id"]


async def _submit(records, portal, form_id, fields, hutk=None, **kw):
    body = {"fields": [{"name": k, "value": v} for k, v in fields.items()],
            "context": {"hutk": hutk, "pageUri": "https://example.com/contact"}, **kw}
    return await records.client.post(
        f"/submissions/v3/integration/submit/{portal}/{form_id}", json=body)


async def _contact(records, headers, contact_id, *props):
    answer = await records.client.get(
        f"/crm/v3/objects/contacts/{contact_id}", headers=headers,
        params={"properties": ",".join(props), "propertiesWithHistory": "firstname"})
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_a_submission_creates_then_updates_the_contact_by_its_email(records):
    # R-MKT-1 R-LIFE-3 R-REC-4
    portal, headers = await records.new_account()
    form_id = await _form(records, headers)
    first = await _submit(records, portal, form_id, {"email": "Ann@X.com", "firstname": "Ann"})
    assert first.status_code == 200, first.text
    assert first.json()["inlineMessage"] and first.json()["created"] is True
    contact_id = first.json()["contactId"]
    again = await _submit(records, portal, form_id, {"email": "ann@x.com", "firstname": "Anna"})
    assert again.json() | {"inlineMessage": ""} == {"inlineMessage": "", "created": False,
                                                     "contactId": contact_id}
    contact = await _contact(records, headers, contact_id, "email", "firstname",
                             "lifecyclestage")
    assert contact["properties"]["firstname"] == "Anna"
    assert contact["properties"]["lifecyclestage"] == "lead"
    [latest, *_] = contact["propertiesWithHistory"]["firstname"]
    assert (latest["sourceType"], latest["sourceId"]) == ("FORM", form_id)


async def test_a_subscription_form_makes_subscribers(records):
    # R-LIFE-3
    portal, headers = await records.new_account()
    form_id = await _form(records, headers, subscriptionForm=True)
    made = await _submit(records, portal, form_id, {"email": "sub@x.com"})
    contact = await _contact(records, headers, made.json()["contactId"], "lifecyclestage")
    assert contact["properties"]["lifecyclestage"] == "subscriber"


async def test_without_email_each_submission_is_a_new_contact(records):
    # R-MKT-1
    portal, headers = await records.new_account()
    form_id = await _form(records, headers, allowSubmissionsWithoutEmail=True)
    one = await _submit(records, portal, form_id, {"firstname": "Nobody"})
    two = await _submit(records, portal, form_id, {"firstname": "Nobody"})
    assert one.status_code == two.status_code == 200
    assert one.json()["contactId"] != two.json()["contactId"]
    strict = await _form(records, headers)
    refused = await _submit(records, portal, strict, {"firstname": "Nobody"})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["errorType"] == "MISSING_EMAIL"


async def test_a_custom_email_field_never_deduplicates(records):
    # R-MKT-1
    portal, headers = await records.new_account()
    made = await records.client.post("/crm/v3/properties/contacts", headers=headers, json={
        "name": "work_email", "label": "Work email", "type": "string", "fieldType": "text",
        "groupName": "contactinformation"})
    assert made.status_code == 201, made.text
    created = await records.client.post("/crm/v3/forms", headers=headers, json={
        "name": "Work", "allowSubmissionsWithoutEmail": True,
        "fields": [{"name": "work_email", "fieldType": "email"}]})
    form_id = created.json()["id"]
    one = await _submit(records, portal, form_id, {"work_email": "boss@work.com"})
    two = await _submit(records, portal, form_id, {"work_email": "boss@work.com"})
    assert one.status_code == 200, one.text
    assert one.json()["contactId"] != two.json()["contactId"]


async def test_unknown_forms_and_bad_payloads_are_refused_clearly(records):
    # R-MKT-1 R-MKT-2 (abuse limits: malformed and oversized payloads)
    portal, headers = await records.new_account()
    form_id = await _form(records, headers)
    other_portal, _ = await records.new_account()
    assert (await _submit(records, other_portal, form_id, {"email": "a@b.com"})
            ).status_code == 404
    malformed = await records.client.post(
        f"/submissions/v3/integration/submit/{portal}/{form_id}", content=b"{nope",
        headers={"content-type": "application/json"})
    assert malformed.status_code == 400 and "Malformed JSON" in malformed.json()["message"]
    oversized = await _submit(records, portal, form_id, {"email": "a@b.com",
                                                         "firstname": "x" * 70_000})
    assert oversized.status_code == 400 and "too large" in oversized.json()["message"]
    unknown = await _submit(records, portal, form_id, {"email": "a@b.com", "shoe": "9"})
    assert unknown.json()["errors"][0]["errorType"] == "FIELD_NOT_IN_FORM_DEFINITION"


async def test_public_endpoints_are_rate_limited_per_client(records):
    # R-MKT-2 (abuse limits per portal and per IP)
    portal, _ = await records.new_account()
    client_ip = f"10.9.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    accepted, refused = 0, []
    for _ in range(30):  # batches of 20 at once, until the window's 200 are spent
        answers = await asyncio.gather(*(records.client.post(
            f"/tracking/v1/{portal}/pageviews", headers={"X-Forwarded-For": client_ip},
            json={"hutk": _cookie(), "url": "https://x.com/"}) for _ in range(20)))
        accepted += sum(a.status_code == 202 for a in answers)
        refused = [a for a in answers if a.status_code == 429]
        if refused:
            break
    assert refused, "no request was refused"
    assert accepted >= 200  # the per-client limit, not less
    assert int(refused[0].headers["Retry-After"]) >= 1
    other_client = await records.client.post(
        f"/tracking/v1/{portal}/pageviews", headers={"X-Forwarded-For": "10.200.0.1"},
        json={"hutk": _cookie(), "url": "https://x.com/"})
    assert other_client.status_code == 202  # limited per client, not for everyone


async def test_page_views_count_once_the_cookie_is_linked(records):
    # R-MKT-2 R-ROLL-2
    portal, headers = await records.new_account()
    hutk = _cookie()
    for page in ("https://x.com/a", "https://x.com/b"):
        answer = await records.client.post(f"/tracking/v1/{portal}/pageviews",
                                           json={"hutk": hutk, "url": page})
        assert answer.status_code == 202, answer.text
    made = await records.client.post("/crm/v3/objects/contacts", headers=headers,
                                     json={"properties": {"email": "seen@x.com"}})
    contact_id = made.json()["id"]
    before = await records.client.get(f"/tracking/v1/{portal}/contacts/{contact_id}",
                                      headers=headers)
    assert before.json()["properties"]["hs_analytics_num_page_views"] == "0"
    assert before.json()["updatedAt"] is None
    identified = await records.client.post(f"/tracking/v1/{portal}/identify",
                                           json={"email": "seen@x.com", "hutk": hutk})
    assert identified.json() == {"contactId": contact_id, "created": False}
    await records.client.post(f"/tracking/v1/{portal}/pageviews",
                              json={"hutk": hutk, "url": "https://x.com/c"})
    after = (await records.client.get(f"/tracking/v1/{portal}/contacts/{contact_id}",
                                      headers=headers)).json()
    assert after["properties"]["hs_analytics_num_page_views"] == "3"  # earlier views too
    assert after["properties"]["hs_analytics_first_url"] == "https://x.com/a"
    assert after["properties"]["hs_analytics_last_url"] == "https://x.com/c"
    assert after["updatedAt"] is not None


async def test_a_sales_email_click_links_no_cookie(records):
    # R-MKT-2
    portal, headers = await records.new_account()
    made = await records.client.post("/crm/v3/objects/contacts", headers=headers,
                                     json={"properties": {"email": "clicker@x.com"}})
    contact_id = made.json()["id"]
    hutk = _cookie()
    await records.client.post(f"/tracking/v1/{portal}/pageviews", json={
        "hutk": hutk, "url": f"https://x.com/offer?_hsenc=p2&crm_email_click={contact_id}"})
    read = await records.client.get(f"/tracking/v1/{portal}/contacts/{contact_id}",
                                    headers=headers)
    assert read.json()["properties"]["hs_analytics_num_page_views"] == "0"


async def test_identify_with_an_unknown_email_creates_an_analytics_subscriber(records):
    # R-MKT-2 R-LIFE-3 R-REC-4
    portal, headers = await records.new_account()
    answer = await records.client.post(f"/tracking/v1/{portal}/identify",
                                       json={"email": "new@x.com", "hutk": _cookie()})
    assert answer.status_code == 200 and answer.json()["created"] is True
    contact_id = answer.json()["contactId"]
    read = await records.client.get(f"/crm/v3/objects/contacts/{contact_id}", headers=headers,
                                    params={"properties": "lifecyclestage",
                                            "propertiesWithHistory": "email"})
    assert read.json()["properties"]["lifecyclestage"] == "subscriber"
    assert read.json()["propertiesWithHistory"]["email"][0]["sourceType"] == "ANALYTICS"


async def test_a_form_with_the_cookie_links_it(records):
    # R-MKT-2
    portal, headers = await records.new_account()
    hutk = _cookie()
    await records.client.post(f"/tracking/v1/{portal}/pageviews",
                              json={"hutk": hutk, "url": "https://x.com/pricing"})
    form_id = await _form(records, headers)
    made = await _submit(records, portal, form_id, {"email": "f@x.com"}, hutk=hutk)
    read = await records.client.get(
        f"/tracking/v1/{portal}/contacts/{made.json()['contactId']}", headers=headers)
    assert read.json()["properties"]["hs_analytics_num_page_views"] == "1"


async def test_static_list_members_are_added_and_removed(records):
    # R-MKT-3
    _, headers = await records.new_account()
    made = await records.client.post("/crm/v3/objects/contacts", headers=headers,
                                     json={"properties": {"email": "m@x.com"}})
    contact_id = made.json()["id"]
    created = await records.client.post("/crm/v3/lists", headers=headers, json={
        "name": "VIPs", "objectTypeId": "0-1", "processingType": "MANUAL"})
    assert created.status_code == 200, created.text
    list_id = created.json()["list"]["listId"]
    added = await records.client.put(f"/crm/v3/lists/{list_id}/memberships/add",
                                     headers=headers, json=[int(contact_id), 999999999])
    assert added.json() == {"recordIdsAdded": [contact_id], "recordIdsMissing": ["999999999"]}
    members = await records.client.get(f"/crm/v3/lists/{list_id}/memberships", headers=headers)
    assert members.json()["results"] == [{"recordId": contact_id}]
    removed = await records.client.put(f"/crm/v3/lists/{list_id}/memberships/remove",
                                       headers=headers, json=[int(contact_id)])
    assert removed.json()["recordIdsRemoved"] == [contact_id]
    other, other_headers = await records.new_account()
    assert (await records.client.get(f"/crm/v3/lists/{list_id}", headers=other_headers)
            ).status_code == 404  # R-AUTH-1


async def test_an_active_list_gains_and_loses_members_from_record_events(records):
    # R-MKT-3 R-BUS-3
    _, headers = await records.new_account()
    early = await records.client.post("/crm/v3/objects/contacts", headers=headers,
                                      json={"properties": {"email": "e@x.com", "city": "Rome"}})
    created = await records.client.post("/crm/v3/lists", headers=headers, json={
        "name": "Romans", "processingType": "DYNAMIC",
        "filterGroups": [{"filters": [{"propertyName": "city", "operator": "EQ",
                                       "value": "rome"}]}]})
    assert created.status_code == 200, created.text
    list_id = created.json()["list"]["listId"]
    assert created.json()["list"]["size"] == 1  # filled from the contacts already there
    late = await records.client.post("/crm/v3/objects/contacts", headers=headers,
                                     json={"properties": {"email": "l@x.com", "city": "Rome"}})

    async def members() -> set[str]:
        answer = await records.client.get(f"/crm/v3/lists/{list_id}/memberships",
                                          headers=headers)
        return {m["recordId"] for m in answer.json()["results"]}

    # The list-membership group started at the topic's end with the session (conftest).
    await eventually(lambda: _has(members, {early.json()["id"], late.json()["id"]}),
                     timeout=30, what="the new Roman to join")
    await records.client.patch(f"/crm/v3/objects/contacts/{late.json()['id']}",
                               headers=headers, json={"properties": {"city": "Oslo"}})
    await eventually(lambda: _has(members, {early.json()["id"]}),
                     what="the contact who moved to leave")
    refused = await records.client.put(f"/crm/v3/lists/{list_id}/memberships/add",
                                       headers=headers, json=[1])
    assert refused.status_code == 400


async def _has(members, expected: set[str]) -> bool:
    return await members() == expected


async def test_email_to_a_list_reports_and_never_mails_twice(records):
    # R-MKT-3 R-REC-8 R-NOTE-1
    _, headers = await records.new_account()
    ids = {}
    for name, props in {"ok": {"email": "ok@x.com"}, "none": {"firstname": "No address"},
                        "bounced": {"email": "bounced@x.com"},
                        "gone": {"email": "gone@x.com"}}.items():
        made = await records.client.post("/crm/v3/objects/contacts", headers=headers,
                                         json={"properties": props})
        ids[name] = made.json()["id"]
    created = await records.client.post("/crm/v3/lists", headers=headers, json={
        "name": "Send", "processingType": "MANUAL"})
    list_id = created.json()["list"]["listId"]
    await records.client.put(f"/crm/v3/lists/{list_id}/memberships/add", headers=headers,
                             json=[int(i) for i in ids.values()])
    suppressed = await records.client.post("/crm/v3/lists/suppressions", headers=headers, json={
        "emailAddress": "Bounced@x.com", "reason": "HARD_BOUNCED"})
    assert suppressed.status_code == 204
    await records.client.post("/crm/v3/lists/suppressions", headers=headers, json={
        "emailAddress": "gone@x.com", "reason": "UNSUBSCRIBED"})
    body = {"subject": "Hello", "html": "<p>Hi</p>", "from": "team@crm.local",
            "sendId": uuid.uuid4().hex}
    # The reader's group starts where the lists topic ends before the send, so it reads
    # this send's events without replaying the topic's backlog.
    reader = f"test-list-email-{uuid.uuid4().hex[:6]}"
    await commit_group_at_end(KAFKA, reader, topics.LISTS)
    sent = await records.client.post(f"/crm/v3/lists/{list_id}/emails", headers=headers,
                                     json=body)
    assert sent.status_code == 200, sent.text
    report = sent.json()
    assert (report["sent"], report["skipped"], report["failed"]) == (1, 3, 0)
    assert {(s["contactId"], s["reason"]) for s in report["results"]["skipped"]} == {
        (ids["none"], "NO_EMAIL_ADDRESS"), (ids["bounced"], "HARD_BOUNCED"),
        (ids["gone"], "UNSUBSCRIBED")}
    [delivered] = report["results"]["sent"]
    email = await records.client.get(f"/crm/v3/objects/emails/{delivered['emailId']}",
                                     headers=headers,
                                     params={"properties": "hs_email_to_email,hs_email_subject"})
    assert email.json()["properties"]["hs_email_to_email"] == "ok@x.com"  # R-REC-8
    again = await records.client.post(f"/crm/v3/lists/{list_id}/emails", headers=headers,
                                      json=body)
    assert again.json() == report  # the retry changes nothing
    events = await _list_email_events(reader, body["sendId"], settle=1.5)
    assert len(events) == 1  # one list-email event, one recipient, however often retried
    [recipient] = events[0]["recipients"]
    assert recipient["address"] == "ok@x.com"
    assert recipient["idempotency_key"] == f"list-email:{body['sendId']}:{ids['ok']}"


async def _list_email_events(group: str, send_id: str, settle: float) -> list[dict]:
    """The list-email events of one send that `group` reads (it was committed at the
    topic's end before the send), read until none came for `settle` s."""
    consumer = AIOKafkaConsumer(topics.LISTS.name, bootstrap_servers=KAFKA, group_id=group,
                                enable_auto_commit=False)
    await consumer.start()
    found: list[dict] = []
    deadline = time.monotonic() + 20
    quiet_since = time.monotonic()
    try:
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=300)
            for message in (m for part in batch.values() for m in part):
                data = json.loads(message.value)
                if data.get("send_id") == send_id:
                    found.append(data)
                    quiet_since = time.monotonic()
            if found and time.monotonic() - quiet_since > settle:
                break
    finally:
        await consumer.stop()
    return found


async def test_list_ids_past_a_bigint_are_refused_not_a_server_error(records):  # R-MKT-3
    # Regression (found by the schema fuzzer): a list id larger than a bigint
    # reached the database and answered 500.
    _, headers = await records.new_account()
    huge = "128764649768255619072"
    answer = await records.client.get(f"/crm/v3/lists/{huge}/memberships", headers=headers)
    assert answer.status_code == 400, answer.text
    added = await records.client.put("/crm/v3/lists/1/memberships/add", headers=headers,
                                     json=[int(huge)])
    assert added.status_code == 400, added.text
