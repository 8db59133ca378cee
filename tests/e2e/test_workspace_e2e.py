"""The customer success workspace end to end, through the gateway, as a CSM, as
a super admin without a seat and as a user without access: settings, customers
and tasks made through the records API, then the summary, a shared default
view, the board, a bulk action's report, the schedule and the feed
(R-CSW-1, R-CSW-2, R-CSW-3, R-CSW-4, R-CSW-6, R-CSW-7, R-CSW-8, R-CSW-9)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from crm_platform.testing import wait_until

pytestmark = pytest.mark.e2e

SETTINGS = {
    "customers": {"objectType": "companies", "csmProperty": "hubspot_owner_id"},
    "services": {"objectType": "services", "csmProperty": "hubspot_owner_id",
                 "defaultLayout": "table"},
    "revenue": {"objects": [{"objectType": "deals", "csmProperty": "hubspot_owner_id",
                             "renewalDateProperty": "closedate"}],
                "defaultObjectType": "deals"},
}
CONTACT_TO_COMPANY = [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}]
CALL_TO_CONTACT = [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 194}]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def crm(gateway_url: str):
    with httpx.Client(base_url=gateway_url, timeout=30) as client:
        yield client


def make_user(crm: httpx.Client, admin: dict[str, str], **profile: Any) -> dict[str, str]:
    made = crm.post("/identity/v1/users", headers=admin, json={
        "email": f"ws-{uuid.uuid4().hex[:8]}@e2e.test",
        "objectScopes": {"*": {"view": "all", "edit": "all"}}, **profile})
    assert made.status_code == 201, made.text
    token = crm.post("/identity/v1/tokens", headers=admin, json={"userId": made.json()["id"]})
    assert token.status_code == 201, token.text
    headers = bearer(token.json()["token"])
    # The workspace learns users from identity events: wait until it knows this one.
    wait_until(lambda: crm.get("/workspace/v1/dashboards", headers=headers).status_code != 401,
               "the workspace to learn the user", 30)
    return {**headers, "X-User-Id": str(made.json()["id"])}


def uid(user: dict[str, str]) -> str:
    return user["X-User-Id"]


def create(crm: httpx.Client, user: dict[str, str], object_type: str,
           properties: dict[str, Any], associations: list | None = None) -> str:
    made = crm.post(f"/crm/v3/objects/{object_type}", headers=user, json={
        "properties": properties, "associations": associations or []})
    assert made.status_code == 201, made.text
    return made.json()["id"]


def test_workspace_as_a_csm_a_seatless_super_admin_and_a_user_without_access(new_account,
                                                                              crm):
    _, admin_token = new_account("workspace e2e")
    admin = bearer(admin_token)
    csm = make_user(crm, admin, serviceSeat=True, permissions=["cs_workspace_access"])
    seatless = make_user(crm, admin, superAdmin=True)
    outsider = make_user(crm, admin, serviceSeat=True)

    # R-CSW-2: settings, checked against the records definitions; a CSM may not change them
    assert crm.put("/workspace/v1/settings", json=SETTINGS, headers=csm).status_code == 403
    saved = crm.put("/workspace/v1/settings", json=SETTINGS, headers=seatless)
    assert saved.status_code == 200, saved.text

    # Customers, a contact, tasks, a deal and a call, all through the records API.
    customers = [create(crm, admin, "companies", {
        "name": f"Customer {n}", "hubspot_owner_id": uid(csm)}) for n in range(3)]
    contact = create(crm, admin, "contacts", {"email": f"c-{uuid.uuid4().hex[:6]}@e2e.test"},
                     [{"to": {"id": customers[0]}, "types": CONTACT_TO_COMPANY}])
    call = create(crm, admin, "calls", {"hs_call_title": "renewal call",
                                        "hs_timestamp": "2025-06-01T09:00:00.000Z"},
                  [{"to": {"id": contact}, "types": CALL_TO_CONTACT}])
    now = datetime.now(UTC)
    today_noon = now.replace(hour=12, minute=0, second=0, microsecond=0)
    due = [now - timedelta(days=2), today_noon, today_noon + timedelta(days=1)]
    tasks = [create(crm, csm, "tasks", {
        "hs_task_subject": f"task {n}", "hubspot_owner_id": uid(csm),
        "hs_timestamp": moment.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "hs_task_status": "NOT_STARTED"}) for n, moment in enumerate(due)]
    pipeline = crm.get("/crm/v3/pipelines/deals", headers=admin).json()["results"][0]
    create(crm, admin, "deals", {"dealname": "Renewal", "amount": "500",
                                 "pipeline": pipeline["id"],
                                 "dealstage": pipeline["stages"][0]["id"],
                                 "hubspot_owner_id": uid(csm)})

    # R-CSW-3: the summary counts the CSM's tasks, for the CSM and for the seatless admin
    def counted(headers: dict[str, str], query: str = "") -> Any:
        answer = crm.get(f"/workspace/v1/summary?timeZone=UTC{query}", headers=headers)
        assert answer.status_code == 200, answer.text
        counts = {k: v["count"] for k, v in answer.json()["tasks"].items()}
        return answer.json() if counts == {"overdue": 1, "due_today": 1,
                                           "due_tomorrow": 1} else None
    summary = wait_until(lambda: counted(csm), "the CSM's summary counts", 120)
    assert [i["id"] for i in summary["schedule"]] == [tasks[1]]
    assert wait_until(lambda: counted(seatless, f"&userId={uid(csm)}"),
                      "the seatless admin's view of the CSM's summary", 30)
    refused = crm.get("/workspace/v1/summary", headers=outsider)
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["missing"] == "cs_workspace_access"

    # R-CSW-4: a shared default view, made by the account's super admin (with a
    # seat; the seatless one has the Summary alone), run by the CSM
    shared = {"name": "My customers", "sharing": "everyone", "isDefault": True,
              "description": "customers the CSM owns", "filterGroups": [{"filters": [
                  {"propertyName": "hubspot_owner_id", "operator": "EQ", "value": uid(csm)}]}]}
    no_seat = crm.post("/workspace/v1/views", headers=seatless, json=shared)
    assert no_seat.status_code == 403 and no_seat.json()["errors"][0]["missing"] == "service_seat"
    assert crm.post("/workspace/v1/views", headers=csm, json=shared).status_code == 403
    view = crm.post("/workspace/v1/views", headers=admin, json=shared)
    assert view.status_code == 201, view.text
    listed = crm.get("/workspace/v1/views?tab=customers", headers=csm).json()["results"]
    assert view.json()["id"] in {v["id"] for v in listed if v["defaultPosition"]}

    def ran() -> Any:
        answer = crm.post(f"/workspace/v1/views/{view.json()['id']}/run", json={},
                          headers=csm)
        assert answer.status_code == 200, answer.text
        return {r["id"] for r in answer.json()["results"]} == set(customers)
    wait_until(ran, "the shared view to list the customers", 60)
    assert crm.post(f"/workspace/v1/views/{view.json()['id']}/run", json={},
                    headers=outsider).status_code == 403

    # R-CSW-6: the revenue board groups the CSM's deal under its stage
    def board() -> Any:
        answer = crm.get(f"/workspace/v1/boards/revenue?ownerId={uid(csm)}", headers=csm)
        assert answer.status_code == 200, answer.text
        return answer.json() if answer.json()["total"] == 1 else None
    columns = {c["stageId"]: c for c in wait_until(board, "the board", 60)["columns"]}
    assert (columns[pipeline["stages"][0]["id"]]["count"],
            columns[pipeline["stages"][0]["id"]]["amount"]) == (1, "500")
    blocked = crm.get("/workspace/v1/boards/revenue", headers=seatless)
    assert blocked.status_code == 403 and blocked.json()["errors"][0]["missing"] == "service_seat"

    # R-CSW-8: the schedule shows today's task in the week
    week = crm.get(f"/workspace/v1/schedule?span=week&date={now.date()}&timeZone=UTC",
                   headers=csm)
    assert week.status_code == 200, week.text
    assert tasks[1] in {i["id"] for d in week.json()["days"] for i in d["items"]}
    assert crm.get("/workspace/v1/schedule", headers=seatless).status_code == 403

    # R-CSW-9: the feed shows the call on the contact of the CSM's customer
    def fed() -> Any:
        answer = crm.get("/workspace/v1/feed", headers=csm)
        assert answer.status_code == 200, answer.text
        return [i["id"] for i in answer.json()["results"]] == [call]
    wait_until(fed, "the feed to show the call", 60)
    assert crm.get("/workspace/v1/feed", headers=seatless).status_code == 403
    assert crm.get("/workspace/v1/feed", headers=outsider).status_code == 403

    # R-CSW-7: a bulk "mark complete" over every task of the view, with its report
    job = crm.post("/workspace/v1/tasks/bulk", headers=csm, json={
        "action": "mark_complete", "matching": {"view": "all"}})
    assert job.status_code == 202, job.text

    def finished() -> Any:
        answer = crm.get(f"/workspace/v1/jobs/{job.json()['id']}", headers=csm)
        assert answer.status_code == 200, answer.text
        return answer.json() if answer.json()["finishedAt"] else None
    report = wait_until(finished, "the bulk job to finish", 60)
    assert report["status"] == "succeeded", report
    assert sorted(report["report"]["changed"]) == sorted(tasks)
    assert crm.get(f"/workspace/v1/jobs/{job.json()['id']}",
                   headers=outsider).status_code == 403
    for task in tasks:
        stored = crm.get(f"/crm/v3/objects/tasks/{task}?properties=hs_task_status",
                         headers=admin)
        assert stored.json()["properties"]["hs_task_status"] == "COMPLETED"
