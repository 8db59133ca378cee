"""A bulk job sends several batches at once and still accounts for every task:
refused batches are retried task by task with the records service's reason, and a
batch that broke off is reported as of unknown outcome (R-CSW-7)."""

from __future__ import annotations

import asyncio

import pytest

from crm_workspace.adapters.crm_api import UpstreamError
from crm_workspace.domain.tasks import BulkAction
from crm_workspace.handlers import jobs


class FakeRecords:
    def __init__(self, refused: set[str], broken: set[str]) -> None:
        self.refused, self.broken = refused, broken
        self.in_flight = self.most_in_flight = 0
        self.calls: list[list[str]] = []

    async def batch_update(self, token, object_type, updates):
        ids = [i for i, _ in updates]
        self.calls.append(ids)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        await asyncio.sleep(0.01)
        self.in_flight -= 1
        if self.broken & set(ids):
            raise RuntimeError("connection reset")
        if bad := self.refused & set(ids):
            raise UpstreamError(400, {"message": f"task {min(bad)} is locked"})
        return {"results": []}


@pytest.fixture
def saved(monkeypatch):
    reports: list[tuple[str, dict, bool]] = []

    async def save_job_report(pool, job_id, status, report, finished):
        reports.append((status, report, finished))
    monkeypatch.setattr(jobs.store, "save_job_report", save_job_report)
    return reports


async def test_batches_run_several_at_once_and_every_task_is_accounted_for(saved):
    # R-CSW-7
    ids = [str(n) for n in range(1, 1001)]
    records = FakeRecords(refused={"150"}, broken={"901"})
    report = await jobs.run_bulk_job(None, records, "t", "job", BulkAction("mark_complete"),
                                     ids)
    assert records.most_in_flight == jobs.IN_FLIGHT
    assert max(len(c) for c in records.calls) == 100
    assert report.processed == 1000 and report.outcome == "partially_failed"
    failed = {f["id"]: f["reason"] for f in report.failed}
    assert failed["150"] == "task 150 is locked"
    assert "151" in report.changed  # the rest of the refused batch, one by one
    assert set(failed) == {"150", *(str(n) for n in range(901, 1001))}
    assert failed["950"].startswith("not known whether applied")
    statuses = [(s, f) for s, _, f in saved]
    assert statuses[-1] == ("partially_failed", True)
    assert len(statuses) == 1 + -(-10 // jobs.IN_FLIGHT)  # progress per wave, then final
