"""CSV: UTF-8 with a byte order mark, RFC 4180 quoting, CRLF line ends.

The BOM is there so that Excel, the tool most exports are opened in, reads the
file as UTF-8: without it Excel assumes the local ANSI code page and garbles
the translated headers and accented names. Python (encoding="utf-8-sig"),
pandas, LibreOffice and Google Sheets all skip it.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

from crm_exports.domain.columns import Column
from crm_exports.writers.base import header_cells, safe_cells


class CsvWriter:
    def __init__(self, path: Path, *, bom: bool = True) -> None:
        self.path = Path(path)
        self._file = self.path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="")
        # QUOTE_MINIMAL quotes exactly the fields RFC 4180 requires (separator,
        # quote, line break) and leaves numbers bare so -12.5 stays a number.
        self._csv = csv.writer(self._file, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
        self._columns: Sequence[Column] = ()

    def write_header(self, columns: Sequence[Column]) -> None:
        self._columns = list(columns)
        self._csv.writerow(header_cells(columns))

    def write_rows(self, rows: Iterable[Sequence[object]]) -> None:
        self._csv.writerows(safe_cells(row, self._columns) for row in rows)

    def close(self) -> list[Path]:
        self._file.close()
        return [self.path]
