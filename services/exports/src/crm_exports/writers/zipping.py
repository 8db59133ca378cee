"""Zipping large exports, as the hosted CRM does.

Thresholds:
- more than 1,000,000 data rows, in any format;
- a CSV file larger than 50 MiB (CSV compresses about tenfold; XLSX and XLS
  are judged by rows only, XLSX being a zip already).
The zip holds the one file under its own name, deflated, and replaces it.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

ZIP_ROWS_THRESHOLD = 1_000_000
ZIP_CSV_BYTES_THRESHOLD = 50 * 1024 * 1024


def should_zip(
    suffix: str,
    row_count: int,
    size_bytes: int,
    *,
    rows_threshold: int = ZIP_ROWS_THRESHOLD,
    csv_bytes_threshold: int = ZIP_CSV_BYTES_THRESHOLD,
) -> bool:
    if row_count > rows_threshold:
        return True
    return suffix.lower() == ".csv" and size_bytes > csv_bytes_threshold


def maybe_zip(path: Path, row_count: int, size: int | None = None) -> Path:
    """The path to deliver: `path` itself, or `<path>.zip` holding it (path removed)."""
    path = Path(path)
    size_bytes = path.stat().st_size if size is None else size
    if not should_zip(path.suffix, row_count, size_bytes):
        return path
    zipped = path.with_name(path.name + ".zip")
    # ZipFile.write copies in chunks, so zipping a large file keeps memory flat.
    with zipfile.ZipFile(zipped, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        zf.write(path, arcname=path.name)
    path.unlink()
    return zipped
