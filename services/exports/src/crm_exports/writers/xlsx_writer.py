"""XLSX through xlsxwriter's constant_memory mode: each row goes to disk once
the next one starts, so memory stays flat whatever the row count.

Cells are written with write_string / write_number, never write(): write()
would turn text starting with "=" into a formula. A sheet holds 1,048,576 rows,
so past 1,048,575 data rows the export goes on in a new sheet, header repeated.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import xlsxwriter

from crm_exports.domain.columns import Column
from crm_exports.writers.base import (
    SheetPager,
    header_cells,
    safe_cells,
    sheet_cell,
    sheet_name,
)

XLSX_DATA_ROWS_PER_SHEET = 1_048_575


class XlsxWriter:
    def __init__(self, path: Path, *, rows_per_sheet: int = XLSX_DATA_ROWS_PER_SHEET) -> None:
        self.path = Path(path)
        self._workbook = xlsxwriter.Workbook(
            str(self.path), {"constant_memory": True, "strings_to_numbers": False}
        )
        self._pager = SheetPager(rows_per_sheet)
        self._columns: Sequence[Column] = ()
        self._sheet = None

    def write_header(self, columns: Sequence[Column]) -> None:
        self._columns = list(columns)

    def write_rows(self, rows: Iterable[Sequence[object]]) -> None:
        for row in rows:
            sheet_number, row_index, new_sheet = self._pager.place()
            if new_sheet:
                self._open_sheet(sheet_number)
            self._write_cells(row_index, safe_cells(row, self._columns))

    def close(self) -> list[Path]:
        if self._sheet is None:  # no data rows: still a sheet with the header
            self._open_sheet(0)
        self._workbook.close()
        return [self.path]

    def _open_sheet(self, sheet_number: int) -> None:
        self._sheet = self._workbook.add_worksheet(sheet_name(sheet_number))
        self._write_cells(0, header_cells(self._columns))

    def _write_cells(self, row_index: int, cells: Sequence[object]) -> None:
        for column_index, cell in enumerate(cells):
            cell = sheet_cell(cell)
            if isinstance(cell, str):
                if cell:
                    self._sheet.write_string(row_index, column_index, cell)
            else:
                self._sheet.write_number(row_index, column_index, cell)
