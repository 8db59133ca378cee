"""The workspace against real records, search, PostgreSQL, Kafka and Redis."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from crm_platform.testing import eventually

pytestmark = pytest.mark.integration


async def test_access_needs_permission_and_seat_and_seatless_admin_sees_summary(world):
    # R-CSW-1
    _, admin = await world.new_account()
    no_access = await world.new_user(admin, serviceSeat=True)
    seatless_admin = await world.new_user(admin, superAdmin=True)
    csm = await world.csm(admin)

    refused = await world.workspace.get("/workspace/v1/views", headers=no_access.headers)
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "cs_workspace_access" in refused.json()["detail"]
    assert refused.json()["errors"][0]["missing"] == "cs_workspace_access"
    assert (await world.workspace.get("/workspace/v1/summary",
                                      headers=no_access.headers)).status_code == 403

    assert (await world.workspace.get("/workspace/v1/summary",
                                      headers=seatless_admin.headers)).status_code == 200
    tasks = await world.workspace.get("/workspace/v1/tasks", headers=seatless_admin.headers)
    assert tasks.status_code == 403 and tasks.json()["errors"][0]["missing"] == "service_seat"
    other = await world.workspace.get(f"/workspace/v1/summary?userId={csm.user_id}",
                                      headers=seatless_admin.headers)
    assert other.status_code == 200 and other.json()["userId"] == csm.user_id
    # R-CSW-3: a CSM may not open another user's Summary
    peek = await world.workspace.get(f"/workspace/v1/summary?userId={admin.user_id}",
                                     headers=csm.headers)
    assert peek.status_code == 403


async def test_another_accounts_ids_answer_404(world):
    # R-CSW-1, R-AUTH-1
    _, admin = await world.new_account()
    _, stranger = await world.new_account()
    views = await world.workspace.get("/workspace/v1/views", headers=admin.headers)
    view_id = views.json()["results"][0]["id"]
    assert (await world.workspace.post(f"/workspace/v1/views/{view_id}/run", json={},
                                       headers=stranger.headers)).status_code == 404
    assert (await world.workspace.get(f"/workspace/v1/summary?userId={admin.user_id}",
                                      headers=stranger.headers)).status_code == 404


SETTINGS = {
    "customers": {"objectType": "companies", "csmProperty": "hubspot_owner_id"},
    "services": {"objectType": "services", "csmProperty": "hubspot_owner_id",
                 "defaultLayout": "table"},
    "revenue": {"objects": [{"objectType": "deals", "csmProperty": "hubspot_owner_id",
                             "renewalDateProperty": "closedate"}],
                "defaultObjectType": "deals"},
}


async def test_settings_are_checked_against_the_records_definitions(world):
    # R-CSW-2
    _, admin = await world.new_account()
    csm = await world.csm(admin)
    assert (await world.workspace.put("/workspace/v1/settings", json=SETTINGS,
                                      headers=csm.headers)).status_code == 403
    wrong = {**SETTINGS, "customers": {"objectType": "companies", "csmProperty": "name",
                                       "renewalDateProperty": "nope"}}
    refused = await world.workspace.put("/workspace/v1/settings", json=wrong,
                                        headers=admin.headers)
    assert refused.status_code == 400, refused.text
    where = {e["in"] for e in refused.json()["errors"]}
    assert where == {"customers.csmProperty", "customers.renewalDateProperty"}
    saved = await world.workspace.put("/workspace/v1/settings", json=SETTINGS,
                                      headers=admin.headers)
    assert saved.status_code == 200, saved.text
    assert saved.json()["version"] == 1
    read = await world.workspace.get("/workspace/v1/settings", headers=csm.headers)
    assert read.json()["services"]["defaultLayout"] == "table"


async def test_views_shared_defaults_and_standard_views(world):
    # R-CSW-4
    _, admin = await world.new_account()
    csm = await world.csm(admin)
    manager = await world.new_user(admin, serviceSeat=True,
                                   permissions=["cs_workspace_access", "cs_settings_manage"])
    private = await world.workspace.post("/workspace/v1/views", json={
        "name": "Mine", "sharing": "private"}, headers=csm.headers)
    assert private.status_code == 201, private.text
    shared = await world.workspace.post("/workspace/v1/views", json={
        "name": "All", "sharing": "everyone"}, headers=csm.headers)
    assert shared.status_code == 403 and "cs_settings_manage" in shared.json()["detail"]
    undescribed = await world.workspace.post("/workspace/v1/views", json={
        "name": "D", "sharing": "everyone", "isDefault": True}, headers=manager.headers)
    assert undescribed.status_code == 400 and "description" in undescribed.json()["detail"]
    ids = []
    for n in range(6):
        made = await world.workspace.post("/workspace/v1/views", json={
            "name": f"D{n}", "sharing": "everyone", "isDefault": True,
            "description": f"default {n}"}, headers=manager.headers)
        assert made.status_code == 201, made.text
        assert made.json()["defaultPosition"] == n + 1
        ids.append(made.json()["id"])
    seventh = await world.workspace.post("/workspace/v1/views", json={
        "name": "D7", "sharing": "everyone", "isDefault": True, "description": "x"},
        headers=manager.headers)
    assert seventh.status_code == 400 and "at most 6" in seventh.json()["detail"]
    reordered = await world.workspace.put("/workspace/v1/views/defaults/order", json={
        "viewIds": list(reversed(ids))}, headers=manager.headers)
    assert [v["id"] for v in reordered.json()["results"]] == list(reversed(ids))

    listed = (await world.workspace.get("/workspace/v1/views?tab=customers",
                                        headers=admin.headers)).json()["results"]
    assert private.json()["id"] not in {v["id"] for v in listed}  # private to the CSM
    standard = {v["standard"]: v for v in listed if v["standard"]}
    assert set(standard) == {"owned_by_me", "assigned_last_30_days"}
    owned = standard["owned_by_me"]["id"]
    edit = await world.workspace.patch(f"/workspace/v1/views/{owned}", json={"name": "x"},
                                       headers=manager.headers)
    assert edit.status_code == 400 and "not edited" in edit.json()["detail"]
    assert (await world.workspace.delete(f"/workspace/v1/views/{owned}",
                                         headers=manager.headers)).status_code == 204


async def test_owned_and_assigned_views_run_through_search(world):
    # R-CSW-4, R-AUTH-3
    _, admin = await world.new_account()
    csm = await world.csm(admin)
    mine = await world.create(admin, "companies", {"name": "Mine Co",
                                                   "hubspot_owner_id": str(csm.user_id)})
    moved = await world.create(admin, "companies", {"name": "Moved Co"})
    await world.create(admin, "companies", {"name": "Theirs Co",
                                            "hubspot_owner_id": str(admin.user_id)})
    patched = await world.records.patch(f"/crm/v3/objects/companies/{moved}", json={
        "properties": {"hubspot_owner_id": str(csm.user_id)}}, headers=admin.headers)
    assert patched.status_code == 200, patched.text
    views = (await world.workspace.get("/workspace/v1/views?tab=customers",
                                       headers=csm.headers)).json()["results"]
    by_kind = {v["standard"]: v["id"] for v in views if v["standard"]}

    async def run(kind: str) -> set[str]:
        answer = await world.workspace.post(f"/workspace/v1/views/{by_kind[kind]}/run",
                                            json={}, headers=csm.headers)
        assert answer.status_code == 200, answer.text
        return {r["id"] for r in answer.json()["results"]}

    assert await eventually(lambda: _eq(run("owned_by_me"), {mine, moved}), timeout=30,
                            what="owned by me to list both companies")
    assert await eventually(lambda: _eq(run("assigned_last_30_days"), {mine, moved}),
                            timeout=180, what="assigned in the last 30 days")


async def _eq(probe, expected):
    return (await probe) == expected


async def test_tasks_summary_bulk_job_and_schedule(world):
    # R-CSW-3, R-CSW-7, R-CSW-8
    _, admin = await world.new_account()
    csm = await world.csm(admin)
    now = datetime.now(UTC)
    ids = []
    for due in (now - timedelta(days=2), now.replace(hour=12, minute=0),
                now.replace(hour=12, minute=0) + timedelta(days=1)):
        made = await world.workspace.post("/workspace/v1/tasks", json={
            "subject": f"call {due:%d}", "dueAt": due.isoformat(), "createAnother": True},
            headers=csm.headers)
        assert made.status_code == 201, made.text
        assert made.json()["another"]["ownerId"] == csm.user_id
        ids.append(made.json()["task"]["id"])

    seen = []

    async def counts():
        summary = await world.workspace.get("/workspace/v1/summary?timeZone=UTC",
                                            headers=csm.headers)
        seen[:] = [summary.json()]
        tasks = summary.json()["tasks"]
        return {k: v["count"] for k, v in tasks.items()} == {
            "overdue": 1, "due_today": 1, "due_tomorrow": 1} and summary.json()
    try:
        summary = await eventually(counts, timeout=180, what="summary task counts")
    except AssertionError:
        raise AssertionError(f"summary was {seen}") from None
    assert summary["tasks"]["overdue"]["link"].startswith("/workspace/v1/tasks?view=overdue")
    assert [i["id"] for i in summary["schedule"]] == [ids[1]]

    overdue = await eventually(lambda: _listed(world, csm, "overdue"), timeout=30,
                               what="the overdue view to list the task")
    assert overdue == [ids[0]]

    week = await world.workspace.get(
        f"/workspace/v1/schedule?span=week&date={now.date()}&timeZone=UTC", headers=csm.headers)
    assert week.status_code == 200, week.text
    assert ids[1] in {i["id"] for d in week.json()["days"] for i in d["items"]}

    bad = await world.workspace.post("/workspace/v1/tasks/bulk", json={
        "action": "edit_property", "propertyName": "hs_task_priority", "value": "URGENT",
        "taskIds": ids[:2]}, headers=csm.headers)
    assert bad.status_code == 202, bad.text
    report = await _finished(world, csm, bad.json()["id"])
    assert report["status"] == "failed"
    assert {f["id"] for f in report["report"]["failed"]} == set(ids[:2])
    assert "hs_task_priority" in report["report"]["failed"][0]["reason"]

    done = await world.workspace.post("/workspace/v1/tasks/bulk", json={
        "action": "mark_complete", "matching": {"view": "all"}}, headers=csm.headers)
    report = await _finished(world, csm, done.json()["id"])
    assert report["status"] == "succeeded" and sorted(report["report"]["changed"]) == sorted(ids)
    completed = await eventually(lambda: _listed(world, csm, "completed", 3), timeout=30,
                                 what="the completed view to list all three")
    assert sorted(completed) == sorted(ids)


async def _listed(world, user, view, expected_count=None):
    answer = await world.workspace.get(f"/workspace/v1/tasks?view={view}&timeZone=UTC",
                                       headers=user.headers)
    assert answer.status_code == 200, answer.text
    found = [r["id"] for r in answer.json()["results"]]
    if expected_count is not None and len(found) != expected_count:
        return None
    return found


async def _finished(world, user, job_id):
    async def probe():
        job = await world.workspace.get(f"/workspace/v1/jobs/{job_id}", headers=user.headers)
        assert job.status_code == 200, job.text
        return job.json() if job.json()["finishedAt"] else None
    return await eventually(probe, timeout=30, what="the bulk job to finish")


async def test_board_groups_deals_and_passes_the_records_refusal_through(world):
    # R-CSW-6
    _, admin = await world.new_account()
    pipelines = await world.records.get("/crm/v3/pipelines/deals", headers=admin.headers)
    pipeline = pipelines.json()["results"][0]
    first, second = pipeline["stages"][0]["id"], pipeline["stages"][1]["id"]
    deal = await world.create(admin, "deals", {"dealname": "Big", "amount": "1000",
                                               "pipeline": pipeline["id"], "dealstage": first})

    async def board():
        answer = await world.workspace.get("/workspace/v1/boards/revenue", headers=admin.headers)
        assert answer.status_code == 200, answer.text
        return answer.json() if answer.json()["total"] == 1 else None
    columns = {c["stageId"]: c for c in (await eventually(board, timeout=30,
                                                          what="the board"))["columns"]}
    assert (columns[first]["count"], columns[first]["amount"]) == (1, "1000")
    moved = await world.workspace.post(f"/workspace/v1/boards/revenue/cards/{deal}/move",
                                       json={"stageId": second}, headers=admin.headers)
    assert moved.status_code == 200, moved.text
    assert moved.json()["properties"]["dealstage"] == second
    direct = await world.records.patch(f"/crm/v3/objects/deals/{deal}", json={
        "properties": {"dealstage": "no-such-stage"}}, headers=admin.headers)
    refused = await world.workspace.post(f"/workspace/v1/boards/revenue/cards/{deal}/move",
                                         json={"stageId": "no-such-stage"},
                                         headers=admin.headers)
    assert refused.status_code == direct.status_code == 400
    assert refused.json()["message"] == direct.json()["message"]


async def test_revenue_table_layout_filters_and_saved_views(world):
    # R-CSW-6: filters (create date, any property), views, table and board layouts
    _, admin = await world.new_account()
    pipelines = await world.records.get("/crm/v3/pipelines/deals", headers=admin.headers)
    pipeline = pipelines.json()["results"][0]
    stage = pipeline["stages"][0]["id"]
    big = await world.create(admin, "deals", {"dealname": "Big", "amount": "9000",
                                              "pipeline": pipeline["id"], "dealstage": stage})
    await world.create(admin, "deals", {"dealname": "Small", "amount": "10",
                                        "pipeline": pipeline["id"], "dealstage": stage})

    async def table():
        answer = await world.workspace.get("/workspace/v1/boards/revenue?layout=table&limit=1",
                                           headers=admin.headers)
        assert answer.status_code == 200, answer.text
        return answer.json() if answer.json()["total"] == 2 else None
    page = await eventually(table, timeout=30, what="the table to list both deals")
    assert page["layout"] == "table" and "columns" not in page
    assert len(page["rows"]) == 1 and page["paging"]["next"]["after"]

    later = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    none_yet = await world.workspace.get(
        f"/workspace/v1/boards/revenue?createdAfter={later}", headers=admin.headers)
    assert none_yet.status_code == 200 and none_yet.json()["total"] == 0

    by_property = await world.workspace.post("/workspace/v1/boards/revenue/query", json={
        "layout": "table", "filters": [{"propertyName": "dealname", "operator": "EQ",
                                        "value": "Big"}]}, headers=admin.headers)
    assert by_property.status_code == 200, by_property.text
    assert [r["id"] for r in by_property.json()["rows"]] == [big]

    large = await world.workspace.post("/workspace/v1/views", json={
        "tab": "revenue", "name": "Large deals", "filterGroups": [{"filters": [
            {"propertyName": "amount", "operator": "GT", "value": "5000"}]}]},
        headers=admin.headers)
    assert large.status_code == 201, large.text
    through_view = await world.workspace.get(
        f"/workspace/v1/boards/revenue?viewId={large.json()['id']}", headers=admin.headers)
    assert through_view.status_code == 200, through_view.text
    body = through_view.json()
    assert body["layout"] == "board" and body["viewId"] == large.json()["id"]
    assert body["total"] == 1 and sum(c["count"] for c in body["columns"]) == 1

    customers = await world.workspace.get("/workspace/v1/views?tab=customers",
                                          headers=admin.headers)
    wrong = await world.workspace.get(
        f"/workspace/v1/boards/revenue?viewId={customers.json()['results'][0]['id']}",
        headers=admin.headers)
    assert wrong.status_code == 400 and "customers view" in wrong.json()["detail"]


async def test_dashboards_need_explicit_confirmation(world):
    # R-CSW-10
    _, admin = await world.new_account()
    unconfirmed = await world.workspace.post("/workspace/v1/dashboards", json={
        "dashboardId": "d1", "name": "Renewals"}, headers=admin.headers)
    assert unconfirmed.status_code == 400 and "confirmAccess" in unconfirmed.json()["detail"]
    added = await world.workspace.post("/workspace/v1/dashboards", json={
        "dashboardId": "d1", "name": "Renewals", "confirmAccess": True}, headers=admin.headers)
    assert added.status_code == 201, added.text
    csm = await world.csm(admin)
    listed = await world.workspace.get("/workspace/v1/dashboards", headers=csm.headers)
    assert [d["dashboardId"] for d in listed.json()["results"]] == ["d1"]


async def test_custom_task_view_lists_and_bulk_changes_its_tasks(world):
    # R-CSW-7: custom task views, and a bulk action on every task a view matches
    _, admin = await world.new_account()
    csm = await world.csm(admin)
    due = (datetime.now(UTC) + timedelta(days=5)).isoformat()
    ids = {}
    for priority in ("HIGH", "HIGH", "LOW"):
        made = await world.workspace.post("/workspace/v1/tasks", json={
            "subject": f"{priority} one", "dueAt": due,
            "properties": {"hs_task_priority": priority}}, headers=csm.headers)
        assert made.status_code == 201, made.text
        ids[made.json()["task"]["id"]] = priority
    urgent = await world.workspace.post("/workspace/v1/views", json={
        "tab": "tasks", "name": "My high priority", "filterGroups": [{"filters": [
            {"propertyName": "hs_task_priority", "operator": "EQ", "value": "HIGH"},
            {"propertyName": "hubspot_owner_id", "operator": "EQ",
             "value": str(csm.user_id)}]}]}, headers=csm.headers)
    assert urgent.status_code == 201, urgent.text
    view_id = urgent.json()["id"]
    high = sorted(i for i, p in ids.items() if p == "HIGH")

    async def listed():
        answer = await world.workspace.get(f"/workspace/v1/tasks?viewId={view_id}",
                                           headers=csm.headers)
        assert answer.status_code == 200, answer.text
        found = sorted(r["id"] for r in answer.json()["results"])
        return found if found == high else None
    await eventually(listed, timeout=60, what="the custom task view to list both HIGH tasks")

    customers = await world.workspace.get("/workspace/v1/views?tab=customers",
                                          headers=csm.headers)
    not_tasks = customers.json()["results"][0]["id"]
    wrong = await world.workspace.get(f"/workspace/v1/tasks?viewId={not_tasks}",
                                      headers=csm.headers)
    assert wrong.status_code == 400 and "not a task view" in wrong.text
    missing = await world.workspace.post("/workspace/v1/tasks/bulk", json={
        "action": "mark_complete", "matching": {"viewId": str(uuid.uuid4())}},
        headers=csm.headers)
    assert missing.status_code == 404, missing.text

    done = await world.workspace.post("/workspace/v1/tasks/bulk", json={
        "action": "mark_complete", "matching": {"viewId": view_id}}, headers=csm.headers)
    assert done.status_code == 202, done.text
    report = await _finished(world, csm, done.json()["id"])
    assert report["status"] == "succeeded" and sorted(report["report"]["changed"]) == high
