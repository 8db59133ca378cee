"""The one protocol every format's writer follows, and what the sheet writers share."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

from crm_exports.domain.associations import ExportFormat
from crm_exports.domain.columns import Column
from crm_exports.domain.safety import Cell, cell_value, neutralise

# Excel and the XLS format both hold at most 32,767 characters in a cell.
SHEET_CELL_MAX_CHARS = 32_767
# Excel keeps 15 significant digits; a longer integer (an id, say) stays exact as text.
SHEET_EXACT_INT_LIMIT = 10**15


class ExportWriter(Protocol):
    """Writes one export file as rows arrive; close() returns the file(s) written."""

    def write_header(self, columns: Sequence[Column]) -> None: ...

    def write_rows(self, rows: Iterable[Sequence[object]]) -> None: ...

    def close(self) -> list[Path]: ...


def safe_cells(row: Sequence[object], columns: Sequence[Column]) -> list[Cell]:
    """Typed, neutralised cells for one row of raw values (R-EXP-6)."""
    if len(row) != len(columns):
        raise ValueError(f"row has {len(row)} values for {len(columns)} columns")
    pairs = zip(row, columns, strict=True)
    return [cell_value(value, column.value_type) for value, column in pairs]


def header_cells(columns: Sequence[Column]) -> list[str]:
    """Headers are text too: a custom property's own label could start with "="."""
    return [neutralise(column.header) for column in columns]


class SheetPager:
    """Places data rows on sheets of at most `rows_per_sheet` rows below a header.

    `place()` answers (sheet number from 0, row within that sheet from 1) and
    whether this row opens a new sheet, which then needs its header first.
    """

    def __init__(self, rows_per_sheet: int) -> None:
        if rows_per_sheet < 1:
            raise ValueError("rows_per_sheet must be at least 1")
        self.rows_per_sheet = rows_per_sheet
        self.rows_placed = 0

    def place(self) -> tuple[int, int, bool]:
        sheet, offset = divmod(self.rows_placed, self.rows_per_sheet)
        self.rows_placed += 1
        return sheet, offset + 1, offset == 0


def sheet_name(sheet_number: int) -> str:
    return "Export" if sheet_number == 0 else f"Export {sheet_number + 1}"


def sheet_cell(cell: Cell) -> Cell:
    """A cell as a spreadsheet can hold it exactly: long ints as text, long text cut."""
    if isinstance(cell, int) and abs(cell) >= SHEET_EXACT_INT_LIMIT:
        return str(cell)
    if isinstance(cell, str) and len(cell) > SHEET_CELL_MAX_CHARS:
        return cell[:SHEET_CELL_MAX_CHARS]
    return cell


def open_writer(fmt: ExportFormat, path: Path) -> ExportWriter:
    from crm_exports.writers.csv_writer import CsvWriter
    from crm_exports.writers.xls_writer import XlsWriter
    from crm_exports.writers.xlsx_writer import XlsxWriter

    writers = {
        ExportFormat.CSV: CsvWriter,
        ExportFormat.XLSX: XlsxWriter,
        ExportFormat.XLS: XlsWriter,
    }
    return writers[fmt](path)
