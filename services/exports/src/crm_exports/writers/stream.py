"""Streams pages of records into a writer as they arrive.

Each page is turned into rows and written before the next page is asked for,
so memory holds one page at a time whatever the export's size.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Sequence
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


async def stream_export(
    pages: AsyncIterable[Sequence[ExportRecord]],
    columns: Sequence[Column],
    writer: ExportWriter,
    options: RowOptions,
) -> ExportedFile:
    check_association_mode(options.association_mode, options.fmt)
    writer.write_header(columns)
    row_count = 0
    try:
        async for page in pages:
            writer.write_rows(build_row(record, columns, options) for record in page)
            row_count += len(page)
    except BaseException:
        writer.close()  # release the file; the caller discards the partial export
        raise
    written = writer.close()
    return ExportedFile(paths=[maybe_zip(p, row_count) for p in written], row_count=row_count)
