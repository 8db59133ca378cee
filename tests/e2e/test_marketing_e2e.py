"""Forms, analytics identity, an active list and an email to it, through the
gateway, with the message read back from the local SMTP sink (R-MKT-1..3).

The email leg needs the notifications service's list-email consumer
(crm.list.email.requested.v1 -> one SMTP message per recipient)."""

from __future__ import annotations

import email
import time
import uuid
from pathlib import Path

import httpx
import pytest

from crm_platform.testing import wait_until

pytestmark = pytest.mark.e2e

MAILBOX = Path(__file__).resolve().parents[2] / ".local" / "run" / "smtp" / "messages"


def test_forms_tracking_and_an_active_list(gateway_url, new_account):
    # R-MKT-1 R-MKT-2 R-MKT-3 R-LIFE-3 R-REC-8
    portal, token = new_account("marketing-e2e")
    api = httpx.Client(base_url=gateway_url, timeout=30,
                       headers={"Authorization": f"Bearer {token}"})
    public = httpx.Client(base_url=gateway_url, timeout=30)
    tag = uuid.uuid4().hex[:8]

    made = api.post("/crm/v3/properties/contacts", json={
        "name": "work_email", "label": "Work email", "type": "string", "fieldType": "text",
        "groupName": "contactinformation"})
    assert made.status_code == 201, made.text
    form = api.post("/crm/v3/forms", json={
        "name": "Newsletter", "subscriptionForm": True, "allowSubmissionsWithoutEmail": True,
        "fields": [{"name": "email", "fieldType": "email"}, {"name": "firstname"},
                   {"name": "city"}, {"name": "work_email", "fieldType": "email"}]})
    assert form.status_code == 201, form.text
    submit_url = f"/submissions/v3/integration/submit/{portal}/{form.json()['id']}"

    def submit(fields: dict, hutk: str | None = None) -> dict:
        answer = public.post(submit_url, json={
            "fields": [{"name": k, "value": v} for k, v in fields.items()],
            "context": {"hutk": hutk, "pageUri": "https://example.com/news"}})
        assert answer.status_code == 200, answer.text
        return answer.json()

    # Page views before the visitor is known, then a submission with the cookie.
    hutk = uuid.uuid4().hex
    for page in ("https://example.com/", "https://example.com/pricing"):
        assert public.post(f"/tracking/v1/{portal}/pageviews",
                           json={"hutk": hutk, "url": page}).status_code == 202
    reader = f"reader-{tag}@example.com"
    first = submit({"email": reader, "firstname": "Rea", "city": "Rome"}, hutk)
    again = submit({"email": reader.upper(), "firstname": "Reader"})
    assert again["contactId"] == first["contactId"] and again["created"] is False
    anonymous = [submit({"firstname": "Anon"})["contactId"] for _ in range(2)]
    assert len(set(anonymous)) == 2  # without email: a new contact each time
    custom = [submit({"work_email": f"boss-{tag}@work.com"})["contactId"] for _ in range(2)]
    assert len(set(custom)) == 2  # a custom email field never deduplicates
    contact = api.get(f"/crm/v3/objects/contacts/{first['contactId']}",
                      params={"properties": "firstname,lifecyclestage"}).json()
    assert contact["properties"]["firstname"] == "Reader"
    assert contact["properties"]["lifecyclestage"] == "subscriber"

    # Views before linking now count; an identify call for a stranger makes a subscriber.
    public.post(f"/tracking/v1/{portal}/pageviews",
                json={"hutk": hutk, "url": "https://example.com/blog"})
    analytics = api.get(f"/tracking/v1/{portal}/contacts/{first['contactId']}").json()
    assert analytics["properties"]["hs_analytics_num_page_views"] == "3"
    assert analytics["properties"]["hs_analytics_first_url"] == "https://example.com/"
    stranger = public.post(f"/tracking/v1/{portal}/identify",
                           json={"email": f"new-{tag}@example.com", "hutk": uuid.uuid4().hex})
    assert stranger.json()["created"] is True

    # An active list gains and loses a member as a property changes.
    romans = api.post("/crm/v3/lists", json={
        "name": f"Romans {tag}", "objectTypeId": "0-1", "processingType": "DYNAMIC",
        "filterGroups": [{"filters": [{"propertyName": "city", "operator": "EQ",
                                       "value": "Rome"}]}]})
    assert romans.status_code == 200, romans.text
    list_id = romans.json()["list"]["listId"]

    def members() -> set[str]:
        answer = api.get(f"/crm/v3/lists/{list_id}/memberships")
        return {m["recordId"] for m in answer.json()["results"]}

    assert members() == {first["contactId"]}
    second = submit({"email": f"second-{tag}@example.com", "city": "Rome"})
    wait_until(lambda: members() == {first["contactId"], second["contactId"]}, "a member to join")
    api.patch(f"/crm/v3/objects/contacts/{second['contactId']}",
              json={"properties": {"city": "Oslo"}})
    wait_until(lambda: members() == {first["contactId"]}, "a member to leave")

    # Email to the list: one engagement per reachable member, with a send report.
    report = _send(api, list_id, f"News {tag}", f"send-{tag}")
    assert (report["sent"], report["skipped"]) == (1, 0)
    assert _send(api, list_id, f"News {tag}", f"send-{tag}") == report  # a retry: no change


def _send(api: httpx.Client, list_id: str, subject: str, send_id: str) -> dict:
    answer = api.post(f"/crm/v3/lists/{list_id}/emails", json={
        "subject": subject, "html": "<p>Hello list</p>", "from": "news@crm.local",
        "sendId": send_id})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_email_to_a_list_arrives_once_over_smtp(gateway_url, new_account):
    # R-MKT-3 R-NOTE-1: needs the notifications service's list-email consumer
    _, token = new_account("list-email-e2e")
    api = httpx.Client(base_url=gateway_url, timeout=30,
                       headers={"Authorization": f"Bearer {token}"})
    tag = uuid.uuid4().hex[:8]
    address = f"member-{tag}@example.com"
    contact = api.post("/crm/v3/objects/contacts", json={"properties": {"email": address}})
    static = api.post("/crm/v3/lists", json={"name": f"Static {tag}",
                                             "processingType": "MANUAL"})
    list_id = static.json()["list"]["listId"]
    api.put(f"/crm/v3/lists/{list_id}/memberships/add", json=[int(contact.json()["id"])])
    subject = f"Hello {tag}"
    for _ in range(2):  # the second send is a retry of the first
        assert _send(api, list_id, subject, f"send-{tag}")["sent"] == 1

    def delivered() -> list[email.message.Message]:
        found = []
        for path in MAILBOX.glob("*.eml"):
            message = email.message_from_bytes(path.read_bytes())
            if message["Subject"] == subject:
                found.append(message)
        return found

    [message] = wait_until(delivered, "the list email on the SMTP sink")
    assert address in message["To"]
    time.sleep(2)
    assert len(delivered()) == 1  # the retried send mailed nobody twice
