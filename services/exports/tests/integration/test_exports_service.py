"""The exports service against the real servers: records and search run here
too (under real HTTP servers, since exports calls them by URL), each on a
throwaway database with its own consumer groups."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import boto3
import httpx
import openpyxl
import pytest
from fastapi import FastAPI
from moto.server import ThreadedMotoServer

from crm_exports import subscriptions as exports_subscriptions
from crm_exports.adapters.jobs import accept_requested
from crm_exports.adapters.storage import S3Storage
from crm_exports.domain.links import sign_download_link
from crm_exports.main import create_app as create_exports
from crm_exports.settings import Settings as ExportsSettings
from crm_platform import metrics
from crm_platform.broker import make_broker
from crm_platform.identity.pg_directory import apply_user_event
from crm_platform.identity.principal import ANY_OBJECT_TYPE, FULL_ACCESS, AccessProfile
from crm_platform.identity.tokens import issue_token
from crm_platform.testing import (
    commit_subscribed_groups_at_end,
    drop_database,
    eventually,
    running,
    service_env,
    serving,
    throwaway_database_url,
    unique_group_prefix,
)
from crm_records import subscriptions as records_subscriptions
from crm_records.main import create_app as create_records
from crm_records.settings import Settings as RecordsSettings
from crm_search import subscriptions as search_subscriptions
from crm_search.main import create_app as create_search
from crm_search.settings import Settings as SearchSettings

pytestmark = pytest.mark.integration


@dataclass
class Stack:
    records: httpx.AsyncClient
    exports: httpx.AsyncClient
    exports_settings: ExportsSettings
    search_url: str
    app: FastAPI

    async def new_account(self) -> tuple[int, int, dict[str, str]]:
        import os
        answer = await self.records.post(
            "/identity/v1/accounts", json={"name": "exports-it"},
            headers={"X-Operator-Key": os.environ.get("RECORDS_OPERATOR_KEY", "")})
        assert answer.status_code == 201, answer.text
        body = answer.json()
        return body["accountId"], body["userId"], {"Authorization": f"Bearer {body['token']}"}


async def start_groups_at_end(bootstrap_servers: str, prefix: str) -> None:
    """The consumer groups of this module's records, search and exports copies (as their
    lifespans subscribe them) committed at the topics' ends before they start, so they
    read what the tests publish without first replaying the shared topics' backlog."""
    names_only = make_broker(bootstrap_servers)  # never started
    records_subscriptions.register(names_only, None, prefix)  # type: ignore[arg-type]
    search_subscriptions.register(names_only, None, None, prefix)  # type: ignore[arg-type]
    exports_subscriptions.register(names_only, None, prefix)  # type: ignore[arg-type]
    await commit_subscribed_groups_at_end(bootstrap_servers, names_only)


@pytest.fixture(scope="module")
async def stack(tmp_path_factory) -> AsyncIterator[Stack]:
    prefix = unique_group_prefix("exports")
    records_settings = RecordsSettings(**service_env("RECORDS_", consumer_group_prefix=prefix))
    records_settings.database_url = throwaway_database_url(records_settings.database_url, "exp")
    search_settings = SearchSettings(**service_env("SEARCH_", consumer_group_prefix=prefix))
    search_settings.database_url = throwaway_database_url(search_settings.database_url, "exp")
    tmp = tmp_path_factory.mktemp("exports")
    exports_settings = ExportsSettings(**service_env(
        "EXPORTS_", consumer_group_prefix=prefix, storage_dir=tmp,
        database_url=throwaway_database_url(ExportsSettings(
            **service_env("EXPORTS_")).database_url, "it")))
    await start_groups_at_end(exports_settings.kafka_bootstrap_servers, prefix)
    try:
        # search and records under real HTTP servers: exports calls both by URL.
        with serving(create_search(search_settings)) as search_url, \
                serving(create_records(records_settings)) as records_url:
            exports_settings.search_url = search_url
            exports_settings.records_url = records_url
            exports_app = create_exports(exports_settings)
            async with httpx.AsyncClient(base_url=records_url, timeout=30) as records, \
                    running(exports_app) as exports:
                yield Stack(records, exports, exports_settings, search_url, exports_app)
    finally:
        for url in (records_settings.database_url, search_settings.database_url,
                    exports_settings.database_url):
            await drop_database(url)


# This module's search copy starts at the end of crm.records.v1 (start_groups_at_end):
# a wait covers indexing the test's own records only.
INDEX_WAIT = 60


async def _indexed(stack: Stack, headers: dict[str, str], object_type: str,
                   count: int) -> None:
    async with httpx.AsyncClient(base_url=stack.search_url, timeout=30) as search:
        async def indexed() -> bool:
            answer = await search.post(f"/crm/v3/objects/{object_type}/search",
                                       json={"limit": 0}, headers=headers)
            return answer.status_code == 200 and answer.json()["total"] >= count
        await eventually(indexed, timeout=INDEX_WAIT, interval=0.5,
                         what=f"{count} {object_type} in search")


async def _contacts_indexed(stack: Stack, headers: dict[str, str], count: int) -> None:
    await _indexed(stack, headers, "contacts", count)


async def _exports_knows_user(stack: Stack, headers: dict[str, str]) -> None:
    async def known() -> bool:
        answer = await stack.exports.get("/crm/v3/exports/mine", headers=headers)
        return answer.status_code == 200
    await eventually(known, timeout=60, what="the user in the exports identity copy")


async def _wait_final(stack: Stack, export_id: str, headers: dict[str, str]) -> dict:
    async def final() -> dict | None:
        answer = await stack.exports.get(
            f"/crm/v3/exports/export/async/tasks/{export_id}/status", headers=headers)
        body = answer.json()
        return body if body["status"] in ("COMPLETE", "FAILED", "CANCELED") else None
    return await eventually(final, timeout=60, what=f"export {export_id} to finish")


VIEW = {"exportType": "VIEW", "format": "CSV", "exportName": "Lead list", "language": "DE",
        "objectType": "CONTACT", "objectProperties": ["hs_object_id", "firstname", "email"],
        "publicCrmSearchRequest": {"filters": [
            {"propertyName": "lastname", "operator": "EQ", "value": "Export"}],
            "sorts": ["email"]}}


async def test_export_streams_the_visible_filtered_rows_and_signs_links(stack):
    # R-EXP-1 R-EXP-2 R-EXP-3 R-EXP-5 R-EXP-6 R-AUTH-3
    account_id, user_id, headers = await stack.new_account()
    created = await stack.records.post("/crm/v3/objects/contacts/batch/create", headers=headers,
                                       json={"inputs": [
        {"properties": {"email": "b@example.com", "firstname": "=cmd|' /C calc'!A0",
                        "lastname": "Export"}},
        {"properties": {"email": "a@example.com", "firstname": "Ann", "lastname": "Export"}},
        {"properties": {"email": "c@example.com", "firstname": "Cy", "lastname": "Other"}}]})
    assert created.status_code == 201, created.text
    await _contacts_indexed(stack, headers, 3)
    await _exports_knows_user(stack, headers)

    started = await stack.exports.post("/crm/v3/exports/export/async", json=VIEW,
                                       headers=headers)
    assert started.status_code == 202, started.text
    export_id = started.json()["id"]
    assert started.json()["links"]["status"].endswith(f"/tasks/{export_id}/status")
    status = await _wait_final(stack, export_id, headers)
    assert status["status"] == "COMPLETE", status

    # The status link lives 5 minutes and streams the file.
    download = await stack.exports.get(urlsplit(status["result"]).path)
    assert download.status_code == 200
    assert "attachment" in download.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[0] == ["Datensatz-ID", "Vorname", "E-Mail"]  # view order, German headers
    assert [r[2] for r in rows[1:]] == ["a@example.com", "b@example.com"]  # filtered, sorted
    assert rows[2][1] == "'=cmd|' /C calc'!A0"  # neutralised, never a formula

    progress = (await stack.exports.get(f"/crm/v3/exports/export/{export_id}/progress",
                                        headers=headers)).json()
    assert progress["rowsWritten"] == progress["rowsExpected"] == 2
    mine = (await stack.exports.get("/crm/v3/exports/mine", headers=headers)).json()
    assert mine["results"][0]["id"] == export_id

    secret = stack.app.state.container.links.secret
    expired = sign_download_link(secret, export_id, datetime.now(UTC) - timedelta(seconds=1))
    answer = await stack.exports.get(f"/crm/v3/exports/download/{expired}")
    assert answer.status_code == 410 and not answer.content.startswith(b"\xef\xbb\xbf")
    forged = sign_download_link("another secret", export_id, datetime.now(UTC) + timedelta(days=1))
    assert (await stack.exports.get(f"/crm/v3/exports/download/{forged}")).status_code == 403

    # Another account's export is not found, never forbidden (R-AUTH-1).
    _, _, other = await stack.new_account()
    await _exports_knows_user(stack, other)
    answer = await stack.exports.get(f"/crm/v3/exports/export/{export_id}", headers=other)
    assert answer.status_code == 404


async def test_without_the_export_permission_the_answer_is_403_naming_it(stack):  # R-EXP-1
    account_id, _, headers = await stack.new_account()
    await _exports_knows_user(stack, headers)
    pool = stack.app.state.runtime.pool
    profile = AccessProfile(account_id=account_id, user_id=990_001, permissions=frozenset(),
                            object_scopes={ANY_OBJECT_TYPE: FULL_ACCESS})
    await apply_user_event(pool, profile, 1)
    token, _ = issue_token(stack.exports_settings.token_secret.get_secret_value(), account_id,
                           990_001, timedelta(minutes=5))
    answer = await stack.exports.post("/crm/v3/exports/export/async", json=VIEW,
                                      headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 403
    assert "'export' permission" in answer.json()["message"]


async def test_bad_filters_and_formats_are_refused_before_anything_is_stored(stack):
    # R-EXP-1 R-EXP-4
    _, _, headers = await stack.new_account()
    await _exports_knows_user(stack, headers)
    bad = {**VIEW, "publicCrmSearchRequest": {"filters": [
        {"propertyName": "email", "operator": "NOPE", "value": "x"}]}}
    answer = await stack.exports.post("/crm/v3/exports/export/async", json=bad, headers=headers)
    assert answer.status_code == 400 and answer.json()["status"] == "error"
    answer = await stack.exports.post("/crm/v3/exports/export/async", headers=headers, json={
        **VIEW, "format": "XLSX", "overrideAssociatedObjectsPerDefinitionPerRowLimit": True})
    assert answer.status_code == 400 and "CSV" in answer.json()["message"]
    assert (await stack.exports.get("/crm/v3/exports/mine", headers=headers)).json() == {
        "results": []}


async def test_one_accounts_exports_queue_while_others_run(stack):  # R-EXP-5
    container = stack.app.state.container
    await container.runner.stop()  # claim by hand, without the service's own workers
    try:
        first_account, first_user, first = await stack.new_account()
        second_account, second_user, second = await stack.new_account()
        await _exports_knows_user(stack, first)
        await _exports_knows_user(stack, second)
        ids = []
        for headers in (first, first, second):
            answer = await stack.exports.post("/crm/v3/exports/export/async", json=VIEW,
                                              headers=headers)
            ids.append(int(answer.json()["id"]))
        async with container.pool.acquire() as conn:
            await accept_requested(conn, ids)
        claimed = [await container.jobs.claim() for _ in range(3)]
        assert {c.export_id for c in claimed if c} == {ids[0], ids[2]}
        assert claimed[2] is None  # the account's second export waits behind its first
        # The queue is a signal (R-EXP-5, operability): waiting and running jobs as gauges.
        await container.runner.measure_queue()
        waiting = metrics.EXPORT_JOBS.labels("exports", "pending")._value.get()
        running_now = metrics.EXPORT_JOBS.labels("exports", "processing")._value.get()
        assert waiting >= 1 and running_now >= 2, (waiting, running_now)
        assert metrics.EXPORT_OLDEST_SECONDS.labels("exports", "pending")._value.get() >= 0
        for job in claimed[:2]:
            await container.runner.run(job)
        assert (await container.jobs.claim()).export_id == ids[1]
    finally:
        container.runner.start()


async def test_an_export_requested_before_a_crash_finishes_after_it(stack):  # R-EXP-5
    _, _, headers = await stack.new_account()
    await _exports_knows_user(stack, headers)
    # A second replica on the same database that never runs jobs stores the request...
    settings = stack.exports_settings.model_copy(update={"run_consumers": False})
    async with running(create_exports(settings)) as down:
        answer = await down.post("/crm/v3/exports/export/async", json=VIEW, headers=headers)
        assert answer.status_code == 202
        export_id = answer.json()["id"]
    # ...and goes away; the event is consumed and the job run by the replica still up.
    status = await _wait_final(stack, export_id, headers)
    assert status["status"] == "COMPLETE"


async def test_cancel_stops_a_waiting_export_and_a_finished_one_cannot_be(stack):  # R-EXP-5
    container = stack.app.state.container
    await container.runner.stop()  # nothing runs the job while it is canceled
    try:
        _, _, headers = await stack.new_account()
        await _exports_knows_user(stack, headers)
        answer = await stack.exports.post("/crm/v3/exports/export/async", json=VIEW,
                                          headers=headers)
        export_id = answer.json()["id"]
        canceled = await stack.exports.post(f"/crm/v3/exports/export/{export_id}/cancel",
                                            headers=headers)
        assert canceled.status_code == 200 and canceled.json()["exportState"] == "CANCELED"
        again = await stack.exports.post(f"/crm/v3/exports/export/{export_id}/cancel",
                                         headers=headers)
        assert again.status_code == 409 and "already CANCELED" in again.json()["message"]
        async with container.pool.acquire() as conn:
            await accept_requested(conn, [int(export_id)])
        assert await container.jobs.claim() is None  # a canceled job never runs
    finally:
        container.runner.start()


async def test_a_job_search_refuses_fails_with_the_reason(stack):  # R-EXP-5
    container = stack.app.state.container
    await container.runner.stop()
    try:
        account_id, user_id, headers = await stack.new_account()
        await _exports_knows_user(stack, headers)
        answer = await stack.exports.post("/crm/v3/exports/export/async", json=VIEW,
                                          headers=headers)
        export_id = int(answer.json()["id"])
        # A query search refuses only at run time (here a filter it does not know).
        await container.pool.execute(
            "UPDATE export_jobs SET spec = jsonb_set(spec, '{search,filter_groups}',"
            " '[{\"filters\": [{\"propertyName\": \"email\", \"operator\": \"NOPE\"}]}]')"
            " WHERE export_id = $1", export_id)
        async with container.pool.acquire() as conn:
            await accept_requested(conn, [export_id])
        await container.runner.run(await container.jobs.claim())
        status = (await stack.exports.get(
            f"/crm/v3/exports/export/async/tasks/{export_id}/status", headers=headers)).json()
        assert status["status"] == "FAILED"
        assert status["errors"][0]["message"].startswith(
            "the search service refused the export's query")
    finally:
        container.runner.start()


async def _user(stack: Stack, admin: dict[str, str], email: str,
                scopes: dict[str, dict[str, str]]) -> tuple[int, dict[str, str]]:
    made = await stack.records.post("/identity/v1/users", headers=admin, json={
        "email": email, "permissions": ["export"], "objectScopes": scopes})
    assert made.status_code == 201, made.text
    token = await stack.records.post("/identity/v1/tokens", headers=admin,
                                     json={"userId": made.json()["id"]})
    assert token.status_code == 201, token.text
    return made.json()["id"], {"Authorization": f"Bearer {token.json()['token']}"}


async def _create(stack: Stack, headers: dict[str, str], object_type: str,
                  inputs: list[dict]) -> list[str]:
    made = await stack.records.post(f"/crm/v3/objects/{object_type}/batch/create",
                                    headers=headers, json={"inputs": [
                                        {"properties": p} for p in inputs]})
    assert made.status_code == 201, made.text
    by_first = {tuple(sorted(r["properties"].items())): r["id"] for r in made.json()["results"]}
    # batch create answers in any order: map back by the values sent
    return [next(i for k, i in by_first.items() if set(p.items()) <= set(k)) for p in inputs]


async def _export_rows(stack: Stack, headers: dict[str, str], body: dict) -> list[list[str]]:
    started = await stack.exports.post("/crm/v3/exports/export/async", json=body,
                                       headers=headers)
    assert started.status_code == 202, started.text
    status = await _wait_final(stack, started.json()["id"], headers)
    assert status["status"] == "COMPLETE", status
    download = await stack.exports.get(urlsplit(status["result"]).path)
    return list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))


async def test_association_columns_name_only_what_the_user_may_see(stack):
    # R-EXP-4 R-EXP-3 R-AUTH-3
    _, admin_id, admin = await stack.new_account()
    ann_id, ann = await _user(stack, admin, "ann@exports.test", {
        "contacts": {"view": "all", "edit": "all"},
        "companies": {"view": "owned", "edit": "owned"}})
    acme, acme_eu, hidden = await _create(stack, admin, "companies", [
        {"name": "=Acme", "domain": "acme.test", "hubspot_owner_id": str(ann_id)},
        {"name": "Acme EU", "domain": "acme.example", "hubspot_owner_id": str(ann_id)},
        {"name": "Hidden Co", "hubspot_owner_id": str(admin_id)}])
    # A merge is how a company gets additional domains (hs_additional_domains is read only).
    merged = await stack.records.post("/crm/v3/objects/companies/merge", headers=admin, json={
        "primaryObjectId": acme, "objectIdToMerge": acme_eu})
    assert merged.status_code == 200, merged.text
    linked, alone = await _create(stack, admin, "contacts", [
        {"email": "linked@x.test", "lastname": "Assoc"},
        {"email": "alone@x.test", "lastname": "Assoc"}])
    for company in (acme, hidden):
        put = await stack.records.put(f"/crm/v4/objects/contacts/{linked}/associations/default/"
                                      f"companies/{company}", headers=admin)
        assert put.status_code == 200, put.text
    await _contacts_indexed(stack, admin, 2)
    await _exports_knows_user(stack, ann)
    await _exports_knows_user(stack, admin)
    view = {**VIEW, "language": "EN", "objectProperties": ["email"],
            "associatedObjectType": "COMPANY", "publicCrmSearchRequest": {
                "filters": [{"propertyName": "lastname", "operator": "EQ", "value": "Assoc"}],
                "sorts": ["-email"]}}

    rows = await _export_rows(stack, ann, view)
    assert rows[0] == ["Email", "Associated Company", "Associated Company IDs"]
    assert rows[1:] == [["linked@x.test", "'=Acme", acme], ["alone@x.test", "", ""]]

    rows = await _export_rows(stack, admin, view)  # the admin sees both companies
    assert rows[1] == ["linked@x.test", "'=Acme;Hidden Co",
                       ";".join(sorted([acme, hidden], key=int))]

    # A company export with every domain on request (R-EXP-4).
    acme_only = {"filters": [{"propertyName": "domain", "operator": "EQ",
                              "value": "acme.test"}]}
    await _merge_indexed(stack, admin, acme_only)
    company_view = {
        **VIEW, "language": "EN", "objectType": "COMPANY", "objectProperties": ["name", "domain"],
        "associatedObjectType": "CONTACT", "publicCrmSearchRequest": acme_only}
    rows = await _export_rows(stack, admin, {**company_view, "includeAllCompanyDomains": True})
    assert rows == [["Name", "Company Domain Name", "Associated Contact",
                     "Associated Contact IDs"],
                    ["'=Acme", "acme.test;acme.example", "Assoc", linked]]
    rows = await _export_rows(stack, admin, company_view)  # the primary domain only
    assert rows[1][:2] == ["'=Acme", "acme.test"]

    # An association type records does not know is a 400 before anything is stored.
    answer = await stack.exports.post("/crm/v3/exports/export/async", headers=ann,
                                      json={**view, "associatedObjectType": "nonsense"})
    assert answer.status_code == 400, answer.text
    assert answer.json()["errors"][0]["in"] == "associatedObjectType"


async def _merge_indexed(stack: Stack, headers: dict[str, str], query: dict) -> None:
    async with httpx.AsyncClient(base_url=stack.search_url, timeout=30) as search:
        async def indexed() -> bool:
            answer = await search.post("/crm/v3/objects/companies/search", headers=headers,
                                       json={"filterGroups": [query],
                                             "properties": ["hs_additional_domains"]})
            results = answer.json().get("results") if answer.status_code == 200 else None
            return bool(results) and bool(results[0]["properties"]["hs_additional_domains"])
        await eventually(indexed, timeout=INDEX_WAIT, interval=0.5,
                         what="the merged company in search")


async def test_a_list_export_writes_the_members_the_user_may_see(stack):
    # R-EXP-1 R-AUTH-3 (lists: R-MKT-3)
    _, admin_id, admin = await stack.new_account()
    ann_id, ann = await _user(stack, admin, "ann.list@exports.test", {
        "contacts": {"view": "owned", "edit": "owned"}})
    mine, theirs, outside = await _create(stack, admin, "contacts", [
        {"email": "mine@x.test", "hubspot_owner_id": str(ann_id)},
        {"email": "theirs@x.test", "hubspot_owner_id": str(admin_id)},
        {"email": "outside@x.test", "hubspot_owner_id": str(ann_id)}])
    made = await stack.records.post("/crm/v3/lists", headers=admin, json={
        "name": "Export me", "processingType": "MANUAL"})
    assert made.status_code == 200, made.text
    list_id = made.json()["list"]["listId"]
    added = await stack.records.put(f"/crm/v3/lists/{list_id}/memberships/add", headers=admin,
                                    json=[int(mine), int(theirs)])
    assert added.status_code == 200, added.text
    await _exports_knows_user(stack, ann)
    await _exports_knows_user(stack, admin)
    body = {"exportType": "LIST", "listId": list_id, "format": "CSV", "exportName": "List",
            "objectProperties": ["hs_object_id", "email"]}
    assert await _export_rows(stack, admin, body) == [
        ["Record ID", "Email"], [mine, "mine@x.test"], [theirs, "theirs@x.test"]]
    assert await _export_rows(stack, ann, body) == [["Record ID", "Email"], [mine, "mine@x.test"]]

    answer = await stack.exports.post("/crm/v3/exports/export/async", headers=ann,
                                      json={**body, "listId": "999999999"})
    assert answer.status_code == 400 and answer.json()["errors"][0]["in"] == "listId"
    started = await stack.exports.post("/crm/v3/exports/export/async", headers=admin, json=body)
    exported = (await stack.exports.get(f"/crm/v3/exports/export/{started.json()['id']}",
                                        headers=admin)).json()
    assert exported["exportType"] == "LIST" and exported["listId"] == list_id
    assert outside  # created, never a member: not in any file above


@contextmanager
def kept_in_an_s3_bucket(stack: Stack) -> Iterator[S3Storage]:
    """The running service's storage swapped for a bucket on an S3-compatible server
    (moto's, on a free port) for the length of one test, then the folder again."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    container = stack.app.state.container
    local = container.storage
    try:
        host, port = server.get_host_and_port()
        client = boto3.client("s3", endpoint_url=f"http://{host}:{port}", region_name="us-east-1",
                              aws_access_key_id="it", aws_secret_access_key="it")
        client.create_bucket(Bucket="exports-it")
        bucket = S3Storage(client, "exports-it", local.root, prefix="exports/")
        container.storage = container.runner.storage = bucket
        yield bucket
    finally:
        container.storage = container.runner.storage = local
        server.stop()


async def test_an_xlsx_export_kept_in_a_bucket_downloads_by_both_links(stack):
    # R-EXP-5 R-EXP-6: storage by setting; the status link and the email link stream it
    account_id, _, headers = await stack.new_account()
    created = await stack.records.post("/crm/v3/objects/contacts/batch/create", headers=headers,
                                       json={"inputs": [
        {"properties": {"email": "s3@example.com", "firstname": "+Zoë", "lastname": "Bucket"}}]})
    assert created.status_code == 201, created.text
    await _contacts_indexed(stack, headers, 1)
    await _exports_knows_user(stack, headers)
    body = {**VIEW, "format": "XLSX", "language": "EN", "publicCrmSearchRequest": {"filters": [
        {"propertyName": "lastname", "operator": "EQ", "value": "Bucket"}]}}
    with kept_in_an_s3_bucket(stack) as bucket:
        started = await stack.exports.post("/crm/v3/exports/export/async", json=body,
                                           headers=headers)
        assert started.status_code == 202, started.text
        export_id = started.json()["id"]
        status = await _wait_final(stack, export_id, headers)
        assert status["status"] == "COMPLETE", status
        # (other tests' jobs still running may land in the bucket too: ours by prefix)
        listed = bucket.client.list_objects_v2(Bucket="exports-it",
                                               Prefix=f"exports/{account_id}/")["Contents"]
        assert [o["Key"] for o in listed] == [f"exports/{account_id}/{export_id}/Lead list.xlsx"]
        assert not (bucket.root / ".scratch" / export_id).exists()

        secret = stack.app.state.container.links.secret
        email_link = sign_download_link(secret, export_id, datetime.now(UTC) + timedelta(days=30))
        for path in (urlsplit(status["result"]).path, f"/crm/v3/exports/download/{email_link}"):
            download = await stack.exports.get(path)
            assert download.status_code == 200
            sheet = openpyxl.load_workbook(io.BytesIO(download.content)).active
            rows = [[c.value for c in row] for row in sheet.iter_rows()]
            assert rows[0] == ["Record ID", "First Name", "Email"]
            assert rows[1][1:] == ["'+Zoë", "s3@example.com"]  # neutralised (R-EXP-6)
            assert isinstance(rows[1][0], int)  # the record id stays a number

        expired = sign_download_link(secret, export_id, datetime.now(UTC) - timedelta(seconds=1))
        assert (await stack.exports.get(f"/crm/v3/exports/download/{expired}")).status_code == 410

