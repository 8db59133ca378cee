"""export_jobs in PostgreSQL: store a request with its event, claim the next
runnable job, record progress, finish.

Claiming: a job is runnable once the consumer of its ExportRequested event
has accepted it (accepted_at), while it is PENDING, or PROCESSING with a lapsed
lease (its runner died). Per account one job runs at a time: the claim takes
a transaction-scoped advisory lock on the account, then re-checks that none
of its jobs holds a live lease, so two replicas never run one account's
exports side by side (R-EXP-5's queue); other accounts are not blocked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from crm_exports.domain.jobs import MAX_ATTEMPTS, JobStatus
from crm_exports.domain.requests import ExportSpec
from crm_platform.outbox import OutgoingEvent, enqueue

OUTBOX_CHANNEL = "outbox_exports"
LEASE = timedelta(seconds=60)
ACCOUNT_LOCK_SPACE = 7_242_005


@dataclass(frozen=True)
class Job:
    export_id: int
    account_id: int
    user_id: int
    spec: ExportSpec
    status: JobStatus
    reason: str | None
    rows_written: int
    rows_expected: int | None
    attempts: int
    requested_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    file_key: str | None
    file_name: str | None
    file_size: int | None

    @classmethod
    def of(cls, row: Any) -> Job:
        return cls(export_id=row["export_id"], account_id=row["account_id"],
                   user_id=row["user_id"], spec=ExportSpec.from_json(row["spec"]),
                   status=JobStatus(row["status"]), reason=row["reason"],
                   rows_written=row["rows_written"], rows_expected=row["rows_expected"],
                   attempts=row["attempts"], requested_at=row["requested_at"],
                   started_at=row["started_at"], completed_at=row["completed_at"],
                   file_key=row["file_key"], file_name=row["file_name"],
                   file_size=row["file_size"])


class JobStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def create(self, account_id: int, user_id: int, spec: ExportSpec,
                     rows_expected: int | None, event_for: Any) -> Job:
        """Store the job and its ExportRequested event in one transaction (R-BUS-2).
        `event_for(job)` builds the OutgoingEvent once the id is known."""
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "INSERT INTO export_jobs (account_id, user_id, spec, rows_expected)"
                " VALUES ($1, $2, $3, $4) RETURNING *",
                account_id, user_id, spec.to_json(), rows_expected)
            job = Job.of(row)
            await enqueue(conn, [event_for(job)], channel=OUTBOX_CHANNEL)
        return job

    async def get(self, account_id: int, export_id: int) -> Job | None:
        row = await self.pool.fetchrow(
            "SELECT * FROM export_jobs WHERE account_id = $1 AND export_id = $2",
            account_id, export_id)
        return Job.of(row) if row else None

    async def get_any(self, export_id: int) -> Job | None:
        row = await self.pool.fetchrow("SELECT * FROM export_jobs WHERE export_id = $1",
                                       export_id)
        return Job.of(row) if row else None

    async def list_mine(self, account_id: int, user_id: int, limit: int) -> list[Job]:
        rows = await self.pool.fetch(
            "SELECT * FROM export_jobs WHERE account_id = $1 AND user_id = $2"
            " ORDER BY requested_at DESC, export_id DESC LIMIT $3", account_id, user_id, limit)
        return [Job.of(r) for r in rows]

    async def cancel(self, account_id: int, export_id: int) -> None:
        await self.pool.execute(
            "UPDATE export_jobs SET status = 'CANCELED', completed_at = now(), lease_until = NULL"
            " WHERE account_id = $1 AND export_id = $2 AND status IN ('PENDING', 'PROCESSING')",
            account_id, export_id)

    async def claim(self) -> Job | None:
        """The oldest runnable job of an account with nothing running, now PROCESSING."""
        async with self.pool.acquire() as conn, conn.transaction():
            candidates = await conn.fetch(
                "SELECT export_id, account_id FROM export_jobs"
                " WHERE accepted_at IS NOT NULL AND (status = 'PENDING' OR"
                "   (status = 'PROCESSING' AND lease_until < now() AND attempts < $1))"
                " ORDER BY requested_at, export_id LIMIT 20 FOR UPDATE SKIP LOCKED",
                MAX_ATTEMPTS)
            for candidate in candidates:
                if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1, $2::int)",
                                           ACCOUNT_LOCK_SPACE, candidate["account_id"] % 2**31):
                    continue
                busy = await conn.fetchval(
                    "SELECT EXISTS (SELECT 1 FROM export_jobs WHERE account_id = $1"
                    " AND status = 'PROCESSING' AND lease_until >= now() AND export_id <> $2)",
                    candidate["account_id"], candidate["export_id"])
                older = await conn.fetchval(
                    "SELECT EXISTS (SELECT 1 FROM export_jobs WHERE account_id = $1"
                    " AND status = 'PENDING' AND accepted_at IS NOT NULL AND export_id < $2)",
                    candidate["account_id"], candidate["export_id"])
                if busy or older:
                    continue
                row = await conn.fetchrow(
                    "UPDATE export_jobs SET status = 'PROCESSING', attempts = attempts + 1,"
                    " lease_until = now() + $2::interval, started_at = now(), rows_written = 0"
                    " WHERE export_id = $1 RETURNING *", candidate["export_id"], LEASE)
                return Job.of(row)
        return None

    async def progress(self, export_id: int, rows_written: int,
                       rows_expected: int | None = None) -> bool:
        """Store progress and extend the lease; False when the job was canceled meanwhile."""
        status = await self.pool.fetchval(
            "UPDATE export_jobs SET rows_written = $2,"
            " rows_expected = COALESCE($3, rows_expected), lease_until = now() + $4::interval"
            " WHERE export_id = $1 AND status = 'PROCESSING' RETURNING status",
            export_id, rows_written, rows_expected, LEASE)
        return status is not None

    async def complete(self, export_id: int, rows: int, file_key: str, file_name: str,
                       file_size: int, event: OutgoingEvent) -> bool:
        async with self.pool.acquire() as conn, conn.transaction():
            done = await conn.fetchval(
                "UPDATE export_jobs SET status = 'COMPLETE', rows_written = $2,"
                " rows_expected = $2, file_key = $3, file_name = $4, file_size = $5,"
                " completed_at = now(), lease_until = NULL"
                " WHERE export_id = $1 AND status = 'PROCESSING' RETURNING true",
                export_id, rows, file_key, file_name, file_size)
            if done:
                await enqueue(conn, [event], channel=OUTBOX_CHANNEL)
        return bool(done)

    async def fail(self, export_id: int, reason: str, event: OutgoingEvent) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            failed = await conn.fetchval(
                "UPDATE export_jobs SET status = 'FAILED', reason = $2, completed_at = now(),"
                " lease_until = NULL WHERE export_id = $1"
                " AND status IN ('PENDING', 'PROCESSING') RETURNING true", export_id, reason)
            if failed:
                await enqueue(conn, [event], channel=OUTBOX_CHANNEL)


async def accept_requested(conn: asyncpg.Connection, export_ids: list[int]) -> None:
    """The consumer's effect: these jobs may now be claimed."""
    await conn.execute(
        "UPDATE export_jobs SET accepted_at = now()"
        " WHERE export_id = ANY($1::bigint[]) AND accepted_at IS NULL", export_ids)


async def too_many_attempts(pool: asyncpg.Pool) -> list[Job]:
    """Jobs whose runner died MAX_ATTEMPTS times: they are failed rather than retried."""
    rows = await pool.fetch(
        "SELECT * FROM export_jobs WHERE status = 'PROCESSING' AND lease_until < now()"
        " AND attempts >= $1", MAX_ATTEMPTS)
    return [Job.of(r) for r in rows]


async def property_definitions(pool: asyncpg.Pool, account_id: int,
                               object_type: str) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT name, label, type FROM export_properties WHERE account_id = $1"
        " AND object_type = $2 AND NOT archived ORDER BY name", account_id, object_type)


async def queue_depth(pool: Any) -> dict[str, tuple[int, float]]:
    """Jobs waiting and running: count and the age in seconds of the oldest, per state."""
    rows = await pool.fetch(
        "SELECT status, count(*) AS jobs,"
        " coalesce(extract(epoch FROM now() - min(requested_at)), 0) AS oldest"
        " FROM export_jobs WHERE status IN ('PENDING', 'PROCESSING') GROUP BY status")
    depth = {"PENDING": (0, 0.0), "PROCESSING": (0, 0.0)}
    depth.update({r["status"]: (r["jobs"], float(r["oldest"])) for r in rows})
    return depth
