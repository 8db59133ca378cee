"""Exports: contacts with one association column as CSV and XLSX, beside the raw read rate.

1,000,000 contacts by default: wall time, the exporter's peak RSS, rows/s.

What runs (and what does not):
- The rows are loaded straight into a throwaway search database, not created
  over HTTP: contacts and 1,000 companies into `search_documents` (as the
  indexer stores them) and one contact -> company pair per contact into
  `search_associations` (both directions, as the indexer keeps them). It is
  migrated with the service's own migrations; the bench user (a super admin)
  is stored in its identity copy.
- The real search service serves it in its own process as deployed
  (`crm-search serve`, one HTTP worker), its consumers off so it replays no
  topic, and the per-account API rate limit (190 calls / 10 s) lifted.
- The exporter runs in a child process, so its peak RSS is its own: the job's
  code path of handlers/runner.py (`export_pages`: the hosted search for the
  first page and the count, then search's export scan in keyset pages of
  EXPORTS_SCAN_PAGE_SIZE with the companies' names; `read_ahead`;
  `stream_export` writing on its own thread into the format's writer, zipped
  as the service does). No records service runs: past 10,000 rows the export
  makes no call to it (its URL refuses connections, so a call would fail the
  bench). Left out: the job-table bookkeeping (one progress UPDATE per page)
  and keeping the file in storage.
- Raw read rate: the same rows read from the search store with asyncpg,
  keyset pages of 1,000 on the primary key, no HTTP, no associations.
- Raw scan rate: the export scan's own SQL for the same pages (rows, the
  associated companies' names, the JSON built by PostgreSQL) with asyncpg,
  no HTTP: what search's part costs.

Goals (issue 10): < 60 s and < 300 MB per export. BENCH_EXPORT_ROWS sets the
row count (default 1,000,000); BENCH_EXPORT_FORMATS the formats (CSV,XLSX).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
from figures import Figure
from service_copy import free_port

ROWS = int(os.environ.get("BENCH_EXPORT_ROWS", "1000000"))
FORMATS = os.environ.get("BENCH_EXPORT_FORMATS", "CSV,XLSX").split(",")
COMPANIES = 1000
ACCOUNT_ID = 990_000_000 + int(uuid.uuid4().int % 1_000_000)
USER_ID = 1
PROPERTIES = ["hs_object_id", "email", "firstname", "lastname", "jobtitle", "company",
              "phone", "city", "lifecyclestage", "createdate"]
LOAD_BATCH = 10_000
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def contact(i: int) -> dict[str, str]:
    return {"hs_object_id": str(i), "email": f"bench-{i}@example.com", "firstname": f"First{i}",
            "lastname": f"Last{i}", "jobtitle": "Customer success manager",
            "company": "Example Holdings International", "phone": "+31 20 123 4567",
            "city": "Amsterdam", "lifecyclestage": "lead", "createdate": "2024-03-01T09:30:00Z"}


def company_id(i: int) -> int:
    return ROWS + 1 + i % COMPANIES


async def _store_user(dsn: str) -> None:
    from crm_platform.identity.pg_directory import apply_user_event
    from crm_platform.identity.principal import (
        ANY_OBJECT_TYPE,
        FULL_ACCESS,
        PERMISSIONS,
        AccessProfile,
    )
    conn = await asyncpg.connect(dsn)
    try:
        profile = AccessProfile(account_id=ACCOUNT_ID, user_id=USER_ID,
                                permissions=PERMISSIONS, super_admin=True,
                                object_scopes={ANY_OBJECT_TYPE: FULL_ACCESS})
        await apply_user_event(conn, profile, 1)
    finally:
        await conn.close()


async def load_search(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    now = datetime.now(UTC)
    columns = ["account_id", "object_type", "record_id", "version", "properties", "created_at",
               "updated_at"]
    try:
        await conn.copy_records_to_table("search_documents", columns=columns, records=[
            (ACCOUNT_ID, "companies", company_id(i), 1,
             json.dumps({"name": f"Company {i}", "domain": f"c{i}.example"}), now, now)
            for i in range(COMPANIES)])
        for start in range(1, ROWS + 1, LOAD_BATCH):
            ids = range(start, min(start + LOAD_BATCH, ROWS + 1))
            await conn.copy_records_to_table(
                "search_documents", columns=columns,
                records=[(ACCOUNT_ID, "contacts", i, 1, json.dumps(contact(i)), now, now)
                         for i in ids])
            pairs = [(ACCOUNT_ID, "contacts", i, "companies", company_id(i), True, now)
                     for i in ids]
            pairs += [(ACCOUNT_ID, "companies", company_id(i), "contacts", i, True, now)
                      for i in ids]
            await conn.copy_records_to_table(
                "search_associations", records=pairs,
                columns=["account_id", "from_type", "from_id", "to_type", "to_id", "associated",
                         "changed_at"])
        await conn.execute("ANALYZE search_documents; ANALYZE search_associations")
    finally:
        await conn.close()


async def raw_read_rate(dsn: str) -> float:
    conn = await asyncpg.connect(dsn)
    try:
        started, last, count = time.perf_counter(), 0, 0
        while True:
            rows = await conn.fetch(
                "SELECT record_id, properties FROM search_documents WHERE account_id = $1"
                " AND object_type = 'contacts' AND record_id > $2 ORDER BY record_id"
                " LIMIT 1000", ACCOUNT_ID, last)
            if not rows:
                return count / (time.perf_counter() - started)
            for row in rows:
                json.loads(row["properties"])  # what a reader must do with each row
            count += len(rows)
            last = rows[-1]["record_id"]
    finally:
        await conn.close()


async def raw_scan_rate(dsn: str, page_size: int) -> float:
    """The export scan's SQL, page after page, without HTTP: search's share of an export."""
    from crm_exports.domain.associations import AssociationMode
    from crm_exports.domain.paging import scan_request
    from crm_exports.domain.requests import SearchSpec
    from crm_platform.db import create_pool
    from crm_platform.identity.principal import Principal
    from crm_search.api.export_scan import compile_scan, parse_scan_request

    caller = Principal(account_id=ACCOUNT_ID, user_id=USER_ID, token_id="bench",
                       super_admin=True)
    pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        started, last, count = time.perf_counter(), 0, 0
        async with pool.acquire() as conn:
            while True:
                scan = parse_scan_request(scan_request(SearchSpec(), PROPERTIES, last, page_size,
                                                       ["companies"],
                                                       AssociationMode.FIRST_1000))
                sql, params = compile_scan(caller, "contacts", scan, {}, "search_documents")
                rows = await conn.fetch(sql, *params)
                if not rows:
                    return count / (time.perf_counter() - started)
                count += len(rows)
                last = rows[-1]["record_id"]
    finally:
        await pool.close()


# ---------------------------------------------------------------- the exporter (child)


async def export_once(fmt: str, search_url: str, records_url: str, secret: str,
                      folder: str) -> dict:
    import resource

    import httpx

    from crm_exports.adapters.records_client import RecordsClient
    from crm_exports.adapters.search_client import SearchClient, UserToken
    from crm_exports.domain.associations import AssociationMode, ExportFormat
    from crm_exports.domain.columns import ExportColumnsMode, plan_columns
    from crm_exports.domain.requests import ExportSpec, SearchSpec
    from crm_exports.domain.rows import RowOptions
    from crm_exports.handlers.read_ahead import read_ahead
    from crm_exports.handlers.runner import export_pages
    from crm_exports.settings import Settings
    from crm_exports.writers import open_writer, stream_export

    started = time.perf_counter()
    export_format = ExportFormat(fmt)
    spec = ExportSpec(export_name="bench", format=export_format, language="en",
                      object_type="contacts", object_properties=PROPERTIES,
                      columns=ExportColumnsMode.VIEW,
                      association_mode=AssociationMode.FIRST_1000, all_company_domains=False,
                      search=SearchSpec(), association_types=["companies"])
    columns = plan_columns(spec.columns, PROPERTIES, {}, spec.association_types, "en")
    wanted = [c.key for c in columns if c.kind == "property"]
    token = UserToken(secret, ACCOUNT_ID, USER_ID)
    settings = Settings()
    async with httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=5.0)) as http:
        search = SearchClient(http, search_url, settings.page_size, settings.scan_page_size)
        records = RecordsClient(http, records_url)
        _, pages = await export_pages(search, records, spec, wanted, token)
        path = Path(folder) / f"bench.{fmt.lower()}"
        result = await stream_export(read_ahead(pages), columns,
                                     open_writer(export_format, path),
                                     RowOptions(fmt=export_format))
    wall = time.perf_counter() - started
    return {"rows": result.row_count, "wall_s": wall,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "cpu_s": time.process_time(), "page_size": settings.scan_page_size,
            "file": result.paths[0].name, "bytes": result.paths[0].stat().st_size}


def run_child(fmt: str, search_url: str, records_url: str, secret: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-exports-") as folder:
        answer = subprocess.run(
            [sys.executable, __file__, "--child", fmt, search_url, records_url, folder,
             str(ACCOUNT_ID)], env={**os.environ, "BENCH_EXPORT_SECRET": secret},
            capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(answer.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- the services


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def service(name: str, database_url: str) -> Iterator[tuple[str, int]]:
    """`crm-<name> serve` on the throwaway database, in its own process."""
    prefix = name.upper() + "_"
    port = free_port()
    env = {**os.environ, f"{prefix}DATABASE_URL": database_url, f"{prefix}PORT": str(port),
           f"{prefix}RUN_CONSUMERS": "false", f"{prefix}RATE_LIMIT_PER_10S": str(10**9),
           f"{prefix}WORKERS": "1", f"{prefix}OTEL_ENABLED": "false"}
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [sys.executable, "-c", f"from crm_{name}.main import run; run()", "serve"], env=env,
        cwd=ROOT, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/livez", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise RuntimeError(f"crm-{name} did not start: {log.read()[-2000:]!r}")
            time.sleep(0.3)
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


# ---------------------------------------------------------------- the bench


async def run() -> list[Figure]:
    from crm_exports.settings import Settings as ExportsSettings
    from crm_platform.db import migrate_async
    from crm_platform.testing import drop_database, service_env, throwaway_database_url
    from crm_search.main import MIGRATIONS as SEARCH_MIGRATIONS
    from crm_search.settings import Settings as SearchSettings

    # The per-account API rate limit (190 calls / 10 s) is lifted here: the bench
    # measures the exporter, not the limiter (see the exports README).
    unlimited = {"run_consumers": False, "rate_limit_per_10s": 10**9}
    search_settings = SearchSettings(**service_env("SEARCH_", **unlimited))
    search_settings.database_url = throwaway_database_url(search_settings.database_url, "bx")
    secret = search_settings.token_secret.get_secret_value()
    page_size = ExportsSettings().scan_page_size
    no_records_service = f"http://127.0.0.1:{free_port()}"  # nothing listens: never called
    try:
        await migrate_async(search_settings.database_url, SEARCH_MIGRATIONS)
        loading = time.perf_counter()
        await load_search(search_settings.database_url)
        load_s = time.perf_counter() - loading
        await _store_user(search_settings.database_url)
        raw = await raw_read_rate(search_settings.database_url)
        raw_scan = await raw_scan_rate(search_settings.database_url, page_size)
        figures = [Figure(f"load {ROWS:,} contacts + associations (COPY, not measured "
                          "as the export)", load_s, "s", "setup only"),
                   Figure("machine load average (1 min) before the exports", os.getloadavg()[0],
                          "", f"{os.cpu_count()} cores, shared")]
        with service("search", search_settings.database_url) as (search_url, search_pid):
            for fmt in FORMATS:
                search_cpu = cpu_seconds(search_pid)
                result = await asyncio.to_thread(run_child, fmt, search_url,
                                                 no_records_service, secret)
                search_cpu = cpu_seconds(search_pid) - search_cpu
                assert result["rows"] == ROWS, result
                rate = result["rows"] / result["wall_s"]
                figures += [
                    Figure(f"{fmt} export, {ROWS:,} contacts + 1 association column",
                           result["wall_s"], "s", f"goal < 60 s; {result['file']}, "
                           f"{result['bytes'] / 2**20:.1f} MiB"),
                    Figure(f"{fmt} exporter peak RSS", result["peak_rss_mib"], "MiB",
                           "goal < 300 MB; child process"),
                    Figure(f"{fmt} exporter CPU time", result["cpu_s"], "s",
                           "imports, JSON parse, rows, writer: child process"),
                    Figure(f"{fmt} search service CPU time", search_cpu, "s",
                           "auth, SQL text, HTTP: its own process (PostgreSQL's not counted)"),
                    Figure(f"{fmt} export rate", rate, "rows/s",
                           f"export scan over HTTP, pages of {result['page_size']:,}"),
                    Figure(f"{fmt} export / raw store read", rate / raw, "x"),
                    Figure(f"{fmt} export / raw export-scan SQL", rate / raw_scan, "x"),
                ]
        figures += [
            Figure("raw read of the same rows from the search store", raw, "rows/s",
                   "asyncpg keyset pages of 1,000, no associations"),
            Figure("raw export-scan SQL (rows + company names as JSON)", raw_scan, "rows/s",
                   f"asyncpg, pages of {page_size:,}, no HTTP")]
        return figures
    finally:
        await drop_database(search_settings.database_url)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        fmt, search_url, records_url, folder, account = sys.argv[2:7]
        ACCOUNT_ID = int(account)
        print(json.dumps(asyncio.run(export_once(
            fmt, search_url, records_url, os.environ["BENCH_EXPORT_SECRET"], folder))))
    else:
        for figure in asyncio.run(run()):
            print(f"  {figure.name:<64} {figure.render():>16}  {figure.note}")
