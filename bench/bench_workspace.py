"""Customer success workspace: the Summary's latency and a bulk "mark complete".

Summary = the GET /workspace/v1/summary handler called in-process (no HTTP, no
token check) for a CSM owning BENCH_WS_CUSTOMERS customers and BENCH_WS_TASKS
tasks. The workspace read model is what the summary reads, so it is loaded
directly (COPY) into a throwaway workspace database rather than through 55,000
creates; the query is the one the service runs (tasks due overdue/today/
tomorrow, today's schedule, views, alerts, health overview).

Bulk = through the gateway against the running platform: a CSM's
BENCH_WS_BULK tasks made with the records batch API, then one
`mark_complete` over every task of the `all` view, timed from the request
until the job's report is final, and until the search index (fed by the
published events) lists every task as completed: stored and published.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from figures import Figure, percentile

from crm_platform.db import create_pool, ensure_database, migrate_async
from crm_platform.identity.principal import ObjectScope, Principal
from crm_platform.testing import drop_database, throwaway_database_url
from crm_workspace.api.summary import summary
from crm_workspace.bootstrap import Container
from crm_workspace.domain.read_model import Snapshot
from crm_workspace.domain.tasks import stamp
from crm_workspace.main import MIGRATIONS

GATEWAY = os.environ.get("CRM_GATEWAY_URL", "http://127.0.0.1:8080")
WORKSPACE_DB = os.environ.get("WORKSPACE_DATABASE_URL",
                              "postgresql://postgres@127.0.0.1:15432/crm_workspace")
CUSTOMERS = int(os.environ.get("BENCH_WS_CUSTOMERS", "5000"))
TASKS = int(os.environ.get("BENCH_WS_TASKS", "50000"))
BULK = int(os.environ.get("BENCH_WS_BULK", "10000"))
SUMMARY_CALLS = int(os.environ.get("BENCH_WS_SUMMARY_CALLS", "200"))
ACCOUNT, CSM = 1, 7


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


async def summary_latencies() -> list[float]:
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
            return latencies
        finally:
            await pool.close()
    finally:
        await drop_database(url)


async def _eventually(probe, within: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if found := await probe():
            return found
        await asyncio.sleep(0.5)
    raise AssertionError(f"timed out after {within}s waiting for {what}")


async def bulk_mark_complete() -> tuple[float, float]:
    """Seconds until the job's report is final, and until search lists every task
    as completed."""
    async with httpx.AsyncClient(base_url=GATEWAY, timeout=120) as crm:
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
            return (await crm.get("/workspace/v1/dashboards", headers=csm)).status_code != 401
        await _eventually(known, 60, "the workspace to learn the CSM")

        due = stamp(datetime.now(UTC) + timedelta(days=3))
        gate = asyncio.Semaphore(4)

        async def create(start: int) -> None:
            async with gate:
                answer = await crm.post("/crm/v3/objects/tasks/batch/create", headers=csm, json={
                    "inputs": [{"properties": {
                        "hs_task_subject": f"bench {n}", "hubspot_owner_id": str(csm_id),
                        "hs_timestamp": due, "hs_task_status": "NOT_STARTED"}}
                        for n in range(start, min(start + 100, BULK))]})
                assert answer.status_code == 201, answer.text
        await asyncio.gather(*(create(s) for s in range(0, BULK, 100)))

        async def listed(view: str) -> bool:
            answer = await crm.get(f"/workspace/v1/tasks?view={view}&timeZone=UTC&limit=1",
                                   headers=csm)
            assert answer.status_code == 200, answer.text
            return answer.json()["total"] == BULK
        await _eventually(lambda: listed("all"), 600, "search to index every task")

        started = time.perf_counter()
        job = await crm.post("/workspace/v1/tasks/bulk", headers=csm, json={
            "action": "mark_complete", "matching": {"view": "all"}})
        assert job.status_code == 202, job.text

        async def finished() -> dict | None:
            answer = await crm.get(f"/workspace/v1/jobs/{job.json()['id']}", headers=csm)
            return answer.json() if answer.json()["finishedAt"] else None
        report = await _eventually(finished, 1200, "the bulk job to finish")
        job_seconds = time.perf_counter() - started
        assert report["status"] == "succeeded" and len(report["report"]["changed"]) == BULK, (
            report["status"], report["report"].get("failed", [])[:3])
        await _eventually(lambda: listed("completed"), 600,
                          "search to list every task as completed")
        return job_seconds, time.perf_counter() - started


async def run() -> list[Figure]:
    latencies = await summary_latencies()
    size = f"{CUSTOMERS:,} customers, {TASKS:,} tasks, {SUMMARY_CALLS} calls in-process"
    figures = [Figure("workspace summary p50", percentile(latencies, 0.5), "ms", size),
               Figure("workspace summary p99", percentile(latencies, 0.99), "ms",
                      f"goal < 100 ms; {size}")]
    job_seconds, published_seconds = await bulk_mark_complete()
    note = f"{BULK:,} tasks, batches of 100 through the gateway"
    figures += [
        Figure("bulk mark complete: job report final", job_seconds, "s", note),
        Figure("bulk mark complete: job rate", BULK / job_seconds, "tasks/s", note),
        Figure("bulk mark complete: stored, published and indexed", published_seconds, "s",
               note + "; until search lists every task completed"),
        Figure("bulk mark complete: end-to-end rate", BULK / published_seconds, "tasks/s",
               note)]
    return figures


if __name__ == "__main__":
    for figure in asyncio.run(run()):
        print(f"{figure.name}: {figure.render()}  ({figure.note})")
