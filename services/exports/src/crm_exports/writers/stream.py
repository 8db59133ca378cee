"""Streams pages of records into a writer as they arrive.

Each page is turned into rows and written before the next page is asked for,
so memory holds one page at a time whatever the export's size. The writing
(rows, cells, the file) runs on one thread of its own, so the event loop
stays free meanwhile: a page read ahead (handlers.read_ahead) arrives while
the current one is written, and the job's lease and progress calls are not
held up by a long page. One thread, so the writer is never used by two at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from crm_exports.domain.associations import check_association_mode
from crm_exports.domain.columns import Column
from crm_exports.domain.rows import ExportRecord, RowOptions, build_row
from crm_exports.writers.base import ExportWriter
from crm_exports.writers.zipping import maybe_zip


@dataclass(frozen=True)
class ExportedFile:
    paths: list[Path]  # what to deliver (zipped where large)
    row_count: int


def _write_page(writer: ExportWriter, page: Sequence[ExportRecord], columns: Sequence[Column],
                options: RowOptions) -> None:
    writer.write_rows(build_row(record, columns, options) for record in page)


def _finish(writer: ExportWriter, row_count: int) -> list[Path]:
    return [maybe_zip(path, row_count) for path in writer.close()]


async def stream_export(
    pages: AsyncIterable[Sequence[ExportRecord]],
    columns: Sequence[Column],
    writer: ExportWriter,
    options: RowOptions,
) -> ExportedFile:
    check_association_mode(options.association_mode, options.fmt)
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="export-writer") as writing:
        await loop.run_in_executor(writing, writer.write_header, columns)
        row_count = 0
        try:
            async for page in pages:
                await loop.run_in_executor(writing, _write_page, writer, page, columns, options)
                row_count += len(page)
        except BaseException:
            # Queued behind a write still running (a cancel), never beside it;
            # the file is released and the caller discards the partial export.
            writing.submit(writer.close).result()
            raise
        paths = await loop.run_in_executor(writing, _finish, writer, row_count)
    return ExportedFile(paths=paths, row_count=row_count)
