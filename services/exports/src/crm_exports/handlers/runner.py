"""Runs export jobs: claim the next one, stream its rows into a file, keep the
file, publish ExportFinished (or ExportFailed) with the job's final state in
one transaction.

Where rows come from (`export_pages`): a view of 10,000 records or more from
search's export scan, which brings each record's associated records' names
along; a smaller view from the hosted search in the view's order and a list
from records' memberships, both with their association cells from records.
The next page is read while the current one is written (handlers.read_ahead).

A replica runs `workers` loops. A job whose runner dies keeps its lease for
60 s, then is claimed again and written from the start (its scratch folder is
emptied first); after 3 such attempts it fails. Transport errors talking to
search or records are treated the same way (retried after the lease), while a
refusal (a bad filter, a list deleted, a user who lost access) fails the job at
once with the refusing service's own message.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from crm_contracts import topics
from crm_contracts.envelope import CloudEvent
from crm_contracts.exports import v1
from crm_exports.adapters.jobs import (
    Job,
    JobStore,
    property_definitions,
    queue_depth,
    too_many_attempts,
)
from crm_exports.adapters.records_client import RecordsClient, RecordsRefused
from crm_exports.adapters.search_client import SearchClient, SearchRefused, UserToken
from crm_exports.adapters.storage import Storage
from crm_exports.domain.associations import ExportFormat
from crm_exports.domain.columns import PropertyDefinition, plan_columns
from crm_exports.domain.jobs import MAX_ATTEMPTS, TooManyRowsForXls, check_xls_rows
from crm_exports.domain.links import EMAIL_LINK_TTL, sign_download_link
from crm_exports.domain.paging import uses_keyset
from crm_exports.domain.requests import ExportSpec
from crm_exports.domain.rows import ADDITIONAL_DOMAINS_PROPERTY, ExportRecord, RowOptions
from crm_exports.handlers.associations import with_associations
from crm_exports.handlers.read_ahead import read_ahead
from crm_exports.writers import open_writer, stream_export
from crm_platform import metrics
from crm_platform.outbox import OutgoingEvent

log = logging.getLogger("crm.exports.runner")
SOURCE = "/crm/exports"


class ExportCanceled(Exception):
    pass


@dataclass(frozen=True)
class Links:
    """Signed download links under the public base URL (R-EXP-5)."""

    secret: str
    public_base_url: str

    def url(self, export_id: int, ttl: timedelta, now: datetime) -> tuple[str, datetime]:
        expires_at = now + ttl
        token = sign_download_link(self.secret, export_id, expires_at)
        return f"{self.public_base_url.rstrip('/')}/crm/v3/exports/download/{token}", expires_at


def export_event(job: Job, data: v1.ExportRequested | v1.ExportFinished | v1.ExportFailed
                 ) -> OutgoingEvent:
    event = CloudEvent.of(data, source=SOURCE, account_id=job.account_id,
                          subject=f"exports/{job.export_id}")
    return OutgoingEvent(topics.EXPORTS.name, v1.export_key(job.account_id), event)


def file_name(export_name: str, fmt: ExportFormat) -> str:
    stem = re.sub(r"[^\w\- ]+", "_", export_name).strip() or "export"
    return f"{stem[:100]}.{fmt.value.lower()}"


class ExportRunner:
    def __init__(self, jobs: JobStore, search: SearchClient, records: RecordsClient,
                 storage: Storage, links: Links, token_secret: str, *, workers: int = 2,
                 idle_seconds: float = 0.5,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.jobs, self.search, self.records = jobs, search, records
        self.storage, self.links = storage, links
        self.token_secret = token_secret
        self.workers = workers
        self.idle_seconds = idle_seconds
        self.clock = clock
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._loop(), name=f"export-worker-{n}")
                       for n in range(self.workers)]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _loop(self) -> None:
        while True:
            try:
                await self.measure_queue()
                await self.fail_abandoned()
                if not await self.run_next():
                    await asyncio.sleep(self.idle_seconds)
            except asyncio.CancelledError:
                raise
            except Exception:  # the store away, say: wait and go on
                log.exception("export worker: unexpected error")
                await asyncio.sleep(1.0)

    async def measure_queue(self) -> None:
        """The export queue as gauges: how many jobs wait and run, and how old the oldest is."""
        for state, (jobs, oldest) in (await queue_depth(self.jobs.pool)).items():
            metrics.EXPORT_JOBS.labels("exports", state.lower()).set(jobs)
            metrics.EXPORT_OLDEST_SECONDS.labels("exports", state.lower()).set(oldest)

    async def run_next(self) -> bool:
        """Claim and run one job; False when none is runnable."""
        job = await self.jobs.claim()
        if job is None:
            return False
        await self.run(job)
        return True

    async def fail_abandoned(self) -> None:
        for job in await too_many_attempts(self.jobs.pool):
            await self._fail(job, f"the export stopped unexpectedly {MAX_ATTEMPTS} times")

    async def run(self, job: Job) -> None:
        try:
            await self._write(job)
        except ExportCanceled:
            log.info("export %s canceled", job.export_id)
            self.storage.discard_scratch(job.export_id)
        except SearchRefused as refused:
            self.storage.discard_scratch(job.export_id)
            await self._fail(job, f"the search service refused the export's query: {refused}")
        except RecordsRefused as refused:
            self.storage.discard_scratch(job.export_id)
            await self._fail(job, f"the records service refused the export: {refused}")
        except TooManyRowsForXls as too_many:
            self.storage.discard_scratch(job.export_id)
            await self._fail(job, str(too_many))
        except httpx.TransportError as error:
            # Search unreachable: leave the job PROCESSING; it is claimed again
            # once its lease lapses (at most MAX_ATTEMPTS runs).
            log.warning("export %s: search or records unreachable (%s); retried later",
                        job.export_id, error)
        except Exception:
            log.exception("export %s failed", job.export_id)
            self.storage.discard_scratch(job.export_id)
            await self._fail(job, "the export failed because of an internal error")

    async def _write(self, job: Job) -> None:
        spec = job.spec
        definitions = {r["name"]: PropertyDefinition(r["name"], r["label"], r["type"])
                       for r in await property_definitions(self.jobs.pool, job.account_id,
                                                           spec.object_type)}
        columns = plan_columns(spec.columns, spec.object_properties, definitions,
                               spec.association_types, spec.language)
        wanted = [c.key for c in columns if c.kind == "property"]
        if spec.all_company_domains and "domain" in wanted:
            wanted.append(ADDITIONAL_DOMAINS_PROPERTY)
        wanted = wanted or ["hs_object_id"]
        token = UserToken(self.token_secret, job.account_id, job.user_id, self.clock)
        expected, pages = await export_pages(self.search, self.records, spec, wanted, token)
        if not await self.jobs.progress(job.export_id, 0, expected):
            raise ExportCanceled()
        name = file_name(spec.export_name, spec.format)
        path = self.storage.scratch(job.export_id) / name
        result = await stream_export(
            self._counted(job, read_ahead(pages)), columns, open_writer(spec.format, path),
            RowOptions(fmt=spec.format, association_mode=spec.association_mode,
                       all_company_domains=spec.all_company_domains))
        delivered = result.paths[0]
        key = f"{job.account_id}/{job.export_id}/{delivered.name}"
        size = await asyncio.to_thread(self.storage.keep, delivered, key)  # an upload with S3
        self.storage.discard_scratch(job.export_id)
        now = self.clock()
        url, expires_at = self.links.url(job.export_id, EMAIL_LINK_TTL, now)
        finished = export_event(job, v1.ExportFinished(
            export_id=str(job.export_id), account_id=job.account_id, user_id=job.user_id,
            export_name=spec.export_name, format=spec.format.value,
            object_type=spec.object_type, row_count=result.row_count, file_name=delivered.name,
            download_url=url, link_expires_at=expires_at, finished_at=now))
        if not await self.jobs.complete(job.export_id, result.row_count, key, delivered.name,
                                        size, finished):
            # canceled while the file was being kept
            await asyncio.to_thread(self.storage.delete, key)
            raise ExportCanceled()
        log.info("export %s complete: %d rows, %d bytes", job.export_id, result.row_count, size)

    async def _counted(self, job: Job, pages: AsyncIterator[list[ExportRecord]]
                       ) -> AsyncIterator[list[ExportRecord]]:
        """Pages passed on to the writer, progress stored after each, cancel noticed."""
        written = 0
        async for page in pages:
            written += len(page)
            if job.spec.format is ExportFormat.XLS:
                check_xls_rows(written)
            yield page
            if not await self.jobs.progress(job.export_id, written):
                raise ExportCanceled()

    async def _fail(self, job: Job, reason: str) -> None:
        log.warning("export %s failed: %s", job.export_id, reason)
        await self.jobs.fail(job.export_id, reason, export_event(job, v1.ExportFailed(
            export_id=str(job.export_id), account_id=job.account_id, user_id=job.user_id,
            export_name=job.spec.export_name, reason=reason, failed_at=self.clock())))


async def export_pages(search: SearchClient, records: RecordsClient, spec: ExportSpec,
                       properties: list[str], token: UserToken
                       ) -> tuple[int | None, AsyncIterator[list[ExportRecord]]]:
    """The rows expected (None when unknown) and the pages of records to write, each
    record with its association cells' records."""
    if spec.list_id is not None:
        size = await records.list_size(spec.list_id, token)
        members = records.list_pages(spec.list_id, properties, token, spec.object_type)
        return size, with_associations(members, records, spec.object_type,
                                       spec.association_types, spec.association_mode, token)
    first = await search.first_page(spec.object_type, spec.search, properties, token)
    if uses_keyset(first.total):
        return None, search.scan_pages(spec.object_type, spec.search, properties,
                                       spec.association_types, spec.association_mode, token)
    return first.total, with_associations(
        search.pages(spec.object_type, spec.search, properties, token, first), records,
        spec.object_type, spec.association_types, spec.association_mode, token)
