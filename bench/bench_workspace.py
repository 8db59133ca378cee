"""Customer success workspace: the Summary's latency and a bulk "mark complete".

Summary = the GET /workspace/v1/summary handler called in-process (no HTTP, no
token check) for a CSM owning BENCH_WS_CUSTOMERS customers and BENCH_WS_TASKS
tasks. The workspace read model is what the summary reads, so it is loaded
directly (COPY) into a throwaway workspace database rather than through 55,000
creates; the query is the one the service runs (tasks due overdue/today/
tomorrow, today's schedule, views, alerts, health overview).

Raw parts beside it: the counts query alone on the typed index, and the same
counts by scanning every task's JSON (how it read before revision 0003).

Bulk = the workspace in this process (throwaway database, its consumers on the
real bus) against the running platform's records and search (gateway): a CSM's
BENCH_WS_BULK tasks made with the records batch API, then one `mark_complete`
over every task of the `all` view, timed from the request until the job's
report is final, and until the search index (fed by the published events)
lists every task as completed: stored and published. Raw parts beside it: the
records batch update of the same tasks, several calls in flight, just before
and just after the job, and one search page.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
from figures import Figure, percentile

from crm_platform.db import create_pool, ensure_database, migrate_async
from crm_platform.identity.principal import ObjectScope, Principal
from crm_platform.testing import drop_database, running, service_env, throwaway_database_url
from crm_workspace.adapters import read_model
from crm_workspace.api.summary import summary
from crm_workspace.bootstrap import Container
from crm_workspace.domain.calendar import due_windows, zone
from crm_workspace.domain.read_model import Snapshot
from crm_workspace.domain.tasks import stamp
from crm_workspace.handlers.jobs import IN_FLIGHT
from crm_workspace.main import MIGRATIONS, create_app
from crm_workspace.settings import Settings

GATEWAY = os.environ.get("CRM_GATEWAY_URL", "http://127.0.0.1:8080")
WORKSPACE_DB = os.environ.get("WORKSPACE_DATABASE_URL",
                              "postgresql://postgres@127.0.0.1:15432/crm_workspace")
CUSTOMERS = int(os.environ.get("BENCH_WS_CUSTOMERS", "5000"))
TASKS = int(os.environ.get("BENCH_WS_TASKS", "50000"))
BULK = int(os.environ.get("BENCH_WS_BULK", "10000"))
SUMMARY_CALLS = int(os.environ.get("BENCH_WS_SUMMARY_CALLS", "200"))
ACCOUNT, CSM = 1, 7
# A stable group prefix: a run reads only the record events since the last run.
GROUP_PREFIX = "bench-workspace-"


COLUMNS = ["account_id", "object_type", "record_id", "version", "owner_id", "properties",
           "archived", "created_at", "updated_at", "scheduled_at", "task_status",
           "health_score", "health_band"]


def read_model_rows(now: datetime) -> list[tuple]:
    """Rows as the record-event consumer writes them (typed columns from the same
    Snapshot the consumer builds)."""
    rng = random.Random(9)
    snapshots = []
    for i in range(CUSTOMERS):
        score = rng.randint(0, 100)
        band = "at_risk" if score < 40 else "neutral" if score < 70 else "healthy"
        snapshots.append(Snapshot(ACCOUNT, "companies", i + 1, 1, CSM, {
            "name": f"Customer {i}", "hubspot_owner_id": str(CSM),
            "health_score": str(score), "health_status": band}, False, now, now))
    for i in range(TASKS):
        due = now + timedelta(minutes=rng.randint(-60 * 24 * 30, 60 * 24 * 30))
        snapshots.append(Snapshot(ACCOUNT, "tasks", 1_000_000 + i, 1, CSM, {
            "hs_task_subject": f"Task {i}", "hubspot_owner_id": str(CSM),
            "hs_timestamp": stamp(due),
            "hs_task_status": "COMPLETED" if i % 3 == 0 else "NOT_STARTED"},
            False, now, now))
    return [(s.account_id, s.object_type, s.record_id, s.version, s.owner_id,
             dict(s.properties), s.archived, s.created_at, s.updated_at, s.scheduled_at,
             s.task_status, s.health_score, s.health_band) for s in snapshots]


async def summary_latencies() -> tuple[list[float], dict[str, float]]:
    url = throwaway_database_url(WORKSPACE_DB, "bench")
    await ensure_database(url)
    try:
        await migrate_async(url, MIGRATIONS)
        pool = await create_pool(url)
        try:
            now = datetime.now(UTC)
            async with pool.acquire() as conn:
                await conn.copy_records_to_table("workspace_records", records=read_model_rows(now),
                                                 columns=COLUMNS)
                await conn.execute("VACUUM ANALYZE workspace_records")
            app = Container(pool=pool, directory=None, limiter=None, token_secret="",
                            api=None)  # type: ignore[arg-type]  # the summary reads no API
            caller = Principal(account_id=ACCOUNT, user_id=CSM, token_id="bench",
                               service_seat=True, permissions=frozenset({"cs_workspace_access"}),
                               object_scopes={"*": ObjectScope("all", "all")})
            first = await summary(caller=caller, app=app, timeZone="Europe/Amsterdam",
                                  userId=None, alertLimit=100)
            assert first.health and sum(b["count"] for b in first.health["bands"].values()
                                        ) == CUSTOMERS, first.health
            latencies = []
            for _ in range(SUMMARY_CALLS):
                started = time.perf_counter()
                await summary(caller=caller, app=app, timeZone="Europe/Amsterdam",
                              userId=None, alertLimit=100)
                latencies.append((time.perf_counter() - started) * 1000)
            return latencies, await raw_counts(pool, caller, now)
        finally:
            await pool.close()
    finally:
        await drop_database(url)


JSON_SCAN_COUNTS = """
    SELECT count(*) FILTER (WHERE due < $3) AS overdue,
           count(*) FILTER (WHERE due >= $3 AND due < $4) AS due_today,
           count(*) FILTER (WHERE due >= $4 AND due < $5) AS due_tomorrow
    FROM (SELECT properties->>'hs_timestamp' AS due FROM workspace_records
          WHERE account_id = $1 AND object_type = 'tasks' AND owner_id = $2
            AND NOT archived AND coalesce(properties->>'hs_task_status', '') <> 'COMPLETED'
            AND properties->>'hs_timestamp' < $5) t"""


async def raw_counts(pool, caller: Principal, now: datetime) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """p50 ms of the task counts alone: the typed-index query the summary runs, and
    the JSON scan it replaced, on the same rows."""
    windows = due_windows(now, zone("Europe/Amsterdam"))
    bounds = (windows.today_start, windows.tomorrow_start, windows.day_after_start)

    async def typed(conn):  # type: ignore[no-untyped-def]
        return await read_model.task_counts(conn, caller, CSM, windows)

    async def json_scan(conn):  # type: ignore[no-untyped-def]
        return dict(await conn.fetchrow(JSON_SCAN_COUNTS, ACCOUNT, CSM,
                                        *(stamp(b) for b in bounds)))
    out = {}
    async with pool.acquire() as conn:
        assert await typed(conn) == await json_scan(conn)
        for name, query in (("typed", typed), ("json", json_scan)):
            times = []
            for _ in range(30):
                started = time.perf_counter()
                await query(conn)
                times.append((time.perf_counter() - started) * 1000)
            out[name] = percentile(times, 0.5)
    return out


async def _eventually(probe, within: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if found := await probe():
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out after {within}s waiting for {what}")


async def _in_flight(calls, at_once: int) -> None:  # type: ignore[no-untyped-def]
    gate = asyncio.Semaphore(at_once)

    async def one(call):  # type: ignore[no-untyped-def]
        async with gate:
            await call()
    await asyncio.gather(*(one(c) for c in calls))


async def _post_retried(crm: httpx.AsyncClient, path: str, headers: dict[str, str],
                        body: dict) -> httpx.Response:
    """The shared records server is restarted by others now and then: a dropped
    connection or a gateway 502/503 is retried (the batch calls are idempotent
    here: same values), anything else is the answer."""
    for attempt in range(5):
        try:
            answer = await crm.post(path, headers=headers, json=body)
            if answer.status_code not in (502, 503) or attempt == 4:
                return answer
        except httpx.TransportError:
            if attempt == 4:
                raise
        await asyncio.sleep(2)
    raise AssertionError("unreachable")


async def bulk_mark_complete() -> dict[str, float]:
    """The workspace runs in this process (its code as checked out, a throwaway
    database, its consumers on the real bus); records and search are the running
    platform's, through the gateway."""
    settings = Settings(**service_env("WORKSPACE_", consumer_group_prefix=GROUP_PREFIX,
                                      records_url=GATEWAY, search_url=GATEWAY))
    settings.database_url = throwaway_database_url(settings.database_url, "benchbulk")
    try:
        async with running(create_app(settings)) as workspace, \
                httpx.AsyncClient(base_url=GATEWAY, timeout=120) as crm:
            return await _bulk(workspace, crm, settings.database_url)
    finally:
        await drop_database(settings.database_url)


async def _bulk(workspace: httpx.AsyncClient, crm: httpx.AsyncClient,
                database_url: str) -> dict[str, float]:
    made = await crm.post("/identity/v1/accounts", json={"name": "bench workspace"},
                          headers={"X-Operator-Key": os.environ["RECORDS_OPERATOR_KEY"]})
    assert made.status_code == 201, made.text
    admin = {"Authorization": f"Bearer {made.json()['token']}"}
    user = await crm.post("/identity/v1/users", headers=admin, json={
        "email": f"csm-{uuid.uuid4().hex[:8]}@bench.test", "serviceSeat": True,
        "permissions": ["cs_workspace_access"],
        "objectScopes": {"*": {"view": "all", "edit": "all"}}})
    assert user.status_code == 201, user.text
    csm_id = user.json()["id"]
    token = await crm.post("/identity/v1/tokens", headers=admin, json={"userId": csm_id})
    csm = {"Authorization": f"Bearer {token.json()['token']}"}

    async def known() -> bool:
        return (await workspace.get("/workspace/v1/dashboards", headers=csm)).status_code != 401
    await _eventually(known, 300, "the workspace to learn the CSM")

    due = stamp(datetime.now(UTC) + timedelta(days=3))
    ids: list[str] = []

    def create(start: int):  # type: ignore[no-untyped-def]
        async def call() -> None:
            body = {"inputs": [{"properties": {
                "hs_task_subject": f"bench {n}", "hubspot_owner_id": str(csm_id),
                "hs_timestamp": due, "hs_task_status": "NOT_STARTED"}}
                for n in range(start, min(start + 100, BULK))]}
            answer = await _post_retried(crm, "/crm/v3/objects/tasks/batch/create", csm, body)
            assert answer.status_code == 201, answer.text
            ids.extend(r["id"] for r in answer.json()["results"])
        return call
    await _in_flight([create(s) for s in range(0, BULK, 100)], 4)

    async def in_read_model(status: str) -> bool:
        conn = await asyncpg.connect(database_url)
        try:
            return await conn.fetchval(
                "SELECT count(*) FROM workspace_records WHERE object_type = 'tasks' "
                "AND owner_id = $1 AND task_status = $2", csm_id, status) == BULK
        finally:
            await conn.close()
    await _eventually(lambda: in_read_model("NOT_STARTED"), 900,
                      "the workspace read model to hold every task")

    async def listed(view: str) -> bool:
        answer = await workspace.get(f"/workspace/v1/tasks?view={view}&timeZone=UTC&limit=1",
                                     headers=csm)
        assert answer.status_code == 200, answer.text
        return answer.json()["total"] == BULK
    await _eventually(lambda: listed("all"), 600, "search to index every task")

    # Raw part, same tasks, same machine, just before and just after the job: the
    # records batch update (100 a call), IN_FLIGHT calls at once, each a real change.
    def update(batch: list[str], status: str):  # type: ignore[no-untyped-def]
        async def call() -> None:
            answer = await _post_retried(crm, "/crm/v3/objects/tasks/batch/update", csm, {
                "inputs": [{"id": i, "properties": {"hs_task_status": status}}
                           for i in batch]})
            assert answer.status_code == 200, answer.text
        return call
    batches = [ids[i:i + 100] for i in range(0, len(ids), 100)]

    async def raw_rate(status: str) -> float:
        started = time.perf_counter()
        await _in_flight([update(b, status) for b in batches], IN_FLIGHT)
        return BULK / (time.perf_counter() - started)
    raw_before = await raw_rate("IN_PROGRESS")
    # The job starts once the workspace has consumed those changes, not under them.
    await _eventually(lambda: in_read_model("IN_PROGRESS"), 600,
                      "the read model to catch up with the raw update")

    started = time.perf_counter()
    job = await workspace.post("/workspace/v1/tasks/bulk", headers=csm, json={
        "action": "mark_complete", "matching": {"view": "all"}})
    assert job.status_code == 202, job.text

    async def finished() -> dict | None:
        answer = await workspace.get(f"/workspace/v1/jobs/{job.json()['id']}", headers=csm)
        return answer.json() if answer.json()["finishedAt"] else None
    report = await _eventually(finished, 1200, "the bulk job to finish")
    job_seconds = time.perf_counter() - started
    assert report["status"] == "succeeded" and len(report["report"]["changed"]) == BULK, (
        report["status"], report["report"].get("failed", [])[:3])
    await _eventually(lambda: listed("completed"), 600,
                      "search to list every task as completed")
    published_seconds = time.perf_counter() - started
    raw_after = await raw_rate("NOT_STARTED")

    started = time.perf_counter()
    page = await crm.post("/crm/v3/objects/tasks/search", headers=csm, json={
        "filterGroups": [{"filters": [{"propertyName": "hubspot_owner_id", "operator": "EQ",
                                       "value": str(csm_id)}]}],
        "limit": 200, "sorts": [{"propertyName": "hs_timestamp", "direction": "ASCENDING"}]})
    assert page.status_code == 200, page.text
    search_page_ms = (time.perf_counter() - started) * 1000
    return {"job": job_seconds, "published": published_seconds,
            "raw_before": raw_before, "raw_after": raw_after, "search_page_ms": search_page_ms}


async def run() -> list[Figure]:
    latencies, counts = await summary_latencies()
    size = f"{CUSTOMERS:,} customers, {TASKS:,} tasks, {SUMMARY_CALLS} calls in-process"
    figures = [Figure("workspace summary p50", percentile(latencies, 0.5), "ms", size),
               Figure("workspace summary p99", percentile(latencies, 0.99), "ms",
                      f"goal < 100 ms; {size}"),
               Figure("raw: task counts on the typed index, p50", counts["typed"], "ms",
                      "the summary's counts query alone"),
               Figure("raw: the same counts scanning task JSON, p50", counts["json"], "ms",
                      f"before revision 0003; {counts['json'] / counts['typed']:.0f}x slower")]
    if os.environ.get("BENCH_WS_SKIP_BULK"):
        return figures
    bulk = await bulk_mark_complete()
    note = f"{BULK:,} tasks, batches of 100, {IN_FLIGHT} in flight"
    job_rate = BULK / bulk["job"]
    raw = (bulk["raw_before"] + bulk["raw_after"]) / 2
    figures += [
        Figure("bulk mark complete: job report final", bulk["job"], "s", note),
        Figure("bulk mark complete: job rate", job_rate, "tasks/s",
               f"{job_rate / raw:.2f}x the raw batch update rate (mean of before and after)"),
        Figure("bulk mark complete: stored, published and indexed", bulk["published"], "s",
               note + "; until search lists every task completed"),
        Figure("bulk mark complete: end-to-end rate", BULK / bulk["published"], "tasks/s",
               note),
        Figure(f"raw: records batch update, {IN_FLIGHT} in flight, before the job",
               bulk["raw_before"], "tasks/s", "100 a call, the same tasks"),
        Figure(f"raw: records batch update, {IN_FLIGHT} in flight, after the job",
               bulk["raw_after"], "tasks/s", "100 a call, the same tasks"),
        Figure("raw: one search page of 200 tasks", bulk["search_page_ms"], "ms",
               f"resolving {BULK:,} through search would take {BULK // 200} pages")]
    return figures


if __name__ == "__main__":
    for figure in asyncio.run(run()):
        print(f"{figure.name}: {figure.render()}  ({figure.note})")
