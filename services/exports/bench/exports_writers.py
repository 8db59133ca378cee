"""Benchmark: stream generated records through the CSV and XLSX writers.

Each (format, rows) run happens in its own child process so its peak RSS
(resource.getrusage) is its own. Rows have 10 properties and one association
column; they arrive in pages of 1,000 through stream_export, as in the service.
Beside the formats, the raw baseline ROWS runs the same pages through
stream_export into a writer that only consumes the rows (records generated,
rows built, no cells, no file): each format's writer CPU is its CPU less that
baseline's, per cell. CPU is the child's user+system time, so it is less
sensitive to the machine's load than the wall time. Prints figures only; no asserts.

    uv run --package crm-exports python services/exports/bench/exports_writers.py
    uv run --package crm-exports python services/exports/bench/exports_writers.py --rows 100000
    uv run --package crm-exports python services/exports/bench/exports_writers.py \
        --formats XLS --rows 65535 200000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
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


class RowsOnlyWriter:
    """The raw baseline: takes every row and writes nothing."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def write_header(self, columns) -> None:
        pass

    def write_rows(self, rows) -> None:
        for _ in rows:
            pass

    def close(self) -> list[Path]:
        self.path.touch()
        return [self.path]


WRITERS = {"ROWS": RowsOnlyWriter, "CSV": CsvWriter, "XLSX": XlsxWriter, "XLS": XlsWriter}


async def pages(rows: int):
    for start in range(1, rows + 1, PAGE_SIZE):
        yield [generated_record(i) for i in range(start, min(start + PAGE_SIZE, rows + 1))]


def run_one(fmt: str, rows: int) -> None:
    columns = [
        *plan_columns(ExportColumnsMode.VIEW, list(PROPERTIES), PROPERTIES, [], "en"),
        Column("companies", "Associated Company", "association", "string", "names"),
    ]
    row_format = ExportFormat.CSV if fmt == "ROWS" else ExportFormat(fmt)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"export.{fmt.lower()}"
        started, cpu_started = time.perf_counter(), _cpu_seconds()
        result = asyncio.run(
            stream_export(pages(rows), columns, WRITERS[fmt](path), RowOptions(fmt=row_format))
        )
        seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu_started
        size = sum(p.stat().st_size for p in result.paths)
        delivered = ", ".join(p.name for p in result.paths)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(
        f"{fmt:5} rows={result.row_count:>9,} columns={len(columns)} time={seconds:7.1f}s "
        f"cpu={cpu:7.1f}s rows/s={result.row_count / seconds:>9,.0f} "
        f"file={size / 2**20:7.1f} MiB peak_rss={peak_mib:6.1f} MiB delivered={delivered}",
        flush=True,
    )
    print(json.dumps({"format": fmt, "rows": rows, "cells": rows * len(columns), "cpu": cpu}))


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _print_writer_cpu(runs: list[dict]) -> None:
    """Each writer's CPU per cell: its run's CPU less the ROWS baseline's, same row count."""
    baseline = {run["rows"]: run["cpu"] for run in runs if run["format"] == "ROWS"}
    per_cell: dict[tuple[str, int], float] = {}
    for run in runs:
        if run["format"] != "ROWS" and run["rows"] in baseline:
            writer_cpu = run["cpu"] - baseline[run["rows"]]
            per_cell[run["format"], run["rows"]] = writer_cpu / run["cells"] * 1e6
            print(f"{run['format']:5} rows={run['rows']:>9,} writer cpu={writer_cpu:6.1f}s "
                  f"({per_cell[run['format'], run['rows']]:.2f} us/cell; "
                  f"ROWS baseline {baseline[run['rows']]:.1f}s)")
    for (fmt, rows), micros in per_cell.items():
        if fmt != "CSV" and ("CSV", rows) in per_cell:
            print(f"{fmt:5} rows={rows:>9,} writer cpu per cell = "
                  f"{micros / per_cell['CSV', rows]:.2f} x CSV's")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--formats", nargs="*", default=["ROWS", "CSV", "XLSX"])
    parser.add_argument("--child", nargs=2, metavar=("FORMAT", "ROWS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_one(args.child[0], int(args.child[1]))
        return
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    runs = []
    for fmt in args.formats:
        for rows in args.rows:
            child = subprocess.run([sys.executable, __file__, "--child", fmt, str(rows)],
                                   check=True, capture_output=True, text=True)
            human, figures = child.stdout.strip().rsplit("\n", 1)
            print(human, flush=True)
            runs.append(json.loads(figures))
    _print_writer_cpu(runs)
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
