"""Bulk actions on tasks as jobs (R-CSW-7).

A job is stored first, then runs in this process in batches of 100 through
the records batch API with the caller's token. When a batch is refused, each
of its tasks is tried alone, so the report names exactly which tasks changed
and which failed, with the records service's reason. Progress is saved after
every batch. A job that was running when its process stopped is marked
interrupted at the next start, with what it had done so far: nothing is ever
half-applied without the report saying so.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import asyncpg

from crm_workspace.adapters import store
from crm_workspace.adapters.crm_api import CrmApi, UpstreamError
from crm_workspace.domain.tasks import BulkAction, BulkReport, chunks

log = logging.getLogger("crm.workspace.jobs")
TASKS = "tasks"


async def interrupt_orphaned_jobs(pool: asyncpg.Pool) -> None:
    await pool.execute("UPDATE workspace_jobs SET status = 'interrupted', finished_at = now() "
                       "WHERE status = 'running'")


async def _apply(api: CrmApi, token: str, action: BulkAction, ids: list[str]) -> None:
    changes = action.changes()
    if changes is None:
        await api.batch_archive(token, TASKS, ids)
    else:
        await api.batch_update(token, TASKS, [(i, changes) for i in ids])


async def run_bulk_job(pool: asyncpg.Pool, api: CrmApi, token: str, job_id: str,
                       action: BulkAction, ids: Sequence[str]) -> BulkReport:
    report = BulkReport(total=len(ids))
    try:
        for batch in chunks(list(ids)):
            try:
                await _apply(api, token, action, batch)
                report.record_success(batch)
            except UpstreamError as refused:
                if refused.status >= 500 or len(batch) == 1:
                    report.record_failure(batch, refused.message)
                else:  # find out which tasks the records service refused, and why
                    for task_id in batch:
                        try:
                            await _apply(api, token, action, [task_id])
                            report.record_success([task_id])
                        except UpstreamError as alone:
                            report.record_failure([task_id], alone.message)
            await store.save_job_report(pool, job_id, "running", report.to_json(), False)
        await store.save_job_report(pool, job_id, report.outcome, report.to_json(), True)
    except asyncio.CancelledError:
        await store.save_job_report(pool, job_id, "interrupted", report.to_json(), True)
        raise
    except Exception as exc:  # report the unexpected too, with what was done before it
        log.exception("bulk job %s stopped", job_id)
        done = set(report.changed) | {f["id"] for f in report.failed}
        report.record_failure([i for i in ids if i not in done], f"job stopped: {exc}")
        await store.save_job_report(pool, job_id, report.outcome, report.to_json(), True)
    return report
