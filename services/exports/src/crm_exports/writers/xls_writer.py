"""XLS (Excel 97-2003) through xlwt.

The format holds 65,536 rows a sheet, so after 65,535 data rows the export goes
on in a new sheet ("Export 2", ...) with the header repeated, and 256 columns.
Rows are flushed to xlwt's temporary file every FLUSH_EVERY rows so they do not
pile up as Python objects; the strings table and the final file assembly stay
in memory (xlwt builds the whole file before saving): about 1.4 KiB a row
(measured in bench/exports_writers.py), so XLS is meant for the exports that
fit that old format, not for millions of rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import xlwt

from crm_exports.domain.columns import Column
from crm_exports.domain.safety import Cell
from crm_exports.writers.base import (
    SheetPager,
    header_cells,
    safe_cells,
    sheet_cell,
    sheet_name,
)

XLS_DATA_ROWS_PER_SHEET = 65_535
XLS_MAX_COLUMNS = 256
FLUSH_EVERY = 1_000


class TooManyColumnsForXls(ValueError):
    pass


class XlsWriter:
    def __init__(self, path: Path, *, rows_per_sheet: int = XLS_DATA_ROWS_PER_SHEET) -> None:
        if rows_per_sheet > XLS_DATA_ROWS_PER_SHEET:
            raise ValueError(f"an XLS sheet holds at most {XLS_DATA_ROWS_PER_SHEET} data rows")
        self.path = Path(path)
        self._workbook = xlwt.Workbook(encoding="utf-8")
        self._pager = SheetPager(rows_per_sheet)
        self._columns: Sequence[Column] = ()
        self._sheet: xlwt.Worksheet | None = None  # the sheet rows go to

    def write_header(self, columns: Sequence[Column]) -> None:
        if len(columns) > XLS_MAX_COLUMNS:
            raise TooManyColumnsForXls(
                f"XLS holds at most {XLS_MAX_COLUMNS} columns, this export has {len(columns)}"
            )
        self._columns = list(columns)

    def write_rows(self, rows: Iterable[Sequence[object]]) -> None:
        for row in rows:
            sheet_number, row_index, new_sheet = self._pager.place()
            if new_sheet:
                self._open_sheet(sheet_number)
            self._write_cells(row_index, safe_cells(row, self._columns))
            if row_index % FLUSH_EVERY == 0:
                assert self._sheet is not None  # opened with the first row
                self._sheet.flush_row_data()

    def close(self) -> list[Path]:
        if self._sheet is None:
            self._open_sheet(0)
        self._workbook.save(str(self.path))
        return [self.path]

    def _open_sheet(self, sheet_number: int) -> None:
        if self._sheet is not None:
            self._sheet.flush_row_data()
        self._sheet = self._workbook.add_sheet(sheet_name(sheet_number))
        self._write_cells(0, header_cells(self._columns))

    def _write_cells(self, row_index: int, cells: Sequence[Cell]) -> None:
        assert self._sheet is not None  # _open_sheet comes first
        row = self._sheet.row(row_index)
        for column_index, cell in enumerate(cells):
            cell = sheet_cell(cell)
            # set_cell_text / set_cell_number: xlwt never reads text as a formula,
            # and picking the setter ourselves keeps that explicit.
            if isinstance(cell, str):
                if cell:
                    row.set_cell_text(column_index, cell)
            else:
                row.set_cell_number(column_index, cell)
