"""Benchmark: stream generated records through the CSV and XLSX writers.

Each (format, rows) run happens in its own child process so its peak RSS
(resource.getrusage) is its own. Rows have 10 properties and one association
column; they arrive in pages of 1,000 through stream_export, as in the service.
Prints figures only; no asserts.

    uv run --package crm-exports python services/exports/bench/exports_writers.py
    uv run --package crm-exports python services/exports/bench/exports_writers.py --rows 100000
    uv run --package crm-exports python services/exports/bench/exports_writers.py \
        --formats XLS --rows 65535 200000
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from crm_exports.domain.associations import ExportFormat
from crm_exports.domain.columns import (
    Column,
    ExportColumnsMode,
    PropertyDefinition,
    plan_columns,
)
from crm_exports.domain.rows import AssociatedRecord, ExportRecord, RowOptions
from crm_exports.writers import CsvWriter, XlsWriter, XlsxWriter, stream_export

PAGE_SIZE = 1_000
PROPERTIES = {
    "hs_object_id": PropertyDefinition("hs_object_id", "Record ID", "number"),
    "firstname": PropertyDefinition("firstname", "First Name"),
    "lastname": PropertyDefinition("lastname", "Last Name"),
    "email": PropertyDefinition("email", "Email"),
    "phone": PropertyDefinition("phone", "Phone Number"),
    "jobtitle": PropertyDefinition("jobtitle", "Job Title"),
    "lifecyclestage": PropertyDefinition("lifecyclestage", "Lifecycle Stage"),
    "amount": PropertyDefinition("amount", "Amount", "number"),
    "createdate": PropertyDefinition("createdate", "Create Date", "datetime"),
    "notes": PropertyDefinition("notes", "Notes"),
}
STAGES = ["subscriber", "lead", "opportunity", "customer"]


def generated_record(i: int) -> ExportRecord:
    return ExportRecord(
        id=i,
        properties={
            "firstname": f"First{i}",
            "lastname": f"Last{i % 9973}",
            "email": f"person{i}@example{i % 97}.com",
            "phone": f"+31 20 {i % 10_000_000:07d}",  # neutralised: starts with "+"
            "jobtitle": "Customer Success Manager",
            "lifecyclestage": STAGES[i % 4],
            "amount": f"{(i % 100_000) / 100 - 250:.2f}",  # some negative numbers
            "createdate": f"2024-{i % 12 + 1:02d}-{i % 28 + 1:02d}T09:30:00Z",
            "notes": "=SUM(A1:A2)" if i % 50 == 0 else f"note {i}",
        },
        associations={"companies": [AssociatedRecord(1_000_000 + i % 5000, f"Company {i % 5000}")]},
    )


async def pages(rows: int):
    for start in range(1, rows + 1, PAGE_SIZE):
        yield [generated_record(i) for i in range(start, min(start + PAGE_SIZE, rows + 1))]


def run_one(fmt: str, rows: int) -> None:
    columns = [
        *plan_columns(ExportColumnsMode.VIEW, list(PROPERTIES), PROPERTIES, [], "en"),
        Column("companies", "Associated Company", "association", "string", "names"),
    ]
    writer_class = {"CSV": CsvWriter, "XLSX": XlsxWriter, "XLS": XlsWriter}[fmt]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"export.{fmt.lower()}"
        started = time.perf_counter()
        result = asyncio.run(
            stream_export(
                pages(rows), columns, writer_class(path), RowOptions(fmt=ExportFormat(fmt))
            )
        )
        seconds = time.perf_counter() - started
        size = sum(p.stat().st_size for p in result.paths)
        delivered = ", ".join(p.name for p in result.paths)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(
        f"{fmt:5} rows={result.row_count:>9,} columns={len(columns)} time={seconds:7.1f}s "
        f"rows/s={result.row_count / seconds:>9,.0f} file={size / 2**20:7.1f} MiB "
        f"peak_rss={peak_mib:6.1f} MiB delivered={delivered}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--formats", nargs="*", default=["CSV", "XLSX"])
    parser.add_argument("--child", nargs=2, metavar=("FORMAT", "ROWS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_one(args.child[0], int(args.child[1]))
        return
    for fmt in args.formats:
        for rows in args.rows:
            subprocess.run([sys.executable, __file__, "--child", fmt, str(rows)], check=True)


if __name__ == "__main__":
    main()
