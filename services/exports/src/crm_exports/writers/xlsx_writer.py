"""XLSX written by our own streaming sheet writer, straight into the zip.

An XLSX file is a zip of XML parts. This writer writes the minimal valid
package: the sheets (`xl/worksheets/sheetN.xml`) are deflated into the zip
row by row as pages arrive, and the small parts that list them
(`[Content_Types].xml`, `_rels/.rels`, `xl/workbook.xml`,
`xl/_rels/workbook.xml.rels`, `xl/styles.xml`) follow when the file is closed,
once the sheet count is known (a zip's parts may come in any order). Nothing
but the current page is held in memory, whatever the row count.

Why not xlsxwriter: its constant_memory mode checks and formats every cell
through several calls and a temporary file, about 6x the CPU of the CSV
writer per cell (bench/exports_writers.py); here the common cell is one
f-string and a row one join, ~1.6x the CSV writer's CPU.

Cells: text as inline strings (`t="inlineStr"`, no shared-strings table to
hold in memory), numbers as `<v>`; empty cells are left out (each cell carries
its reference, so none shifts). Never a formula: nothing is written as `<f>`,
and text is neutralised before (R-EXP-6). Text is XML-escaped, characters XML
1.0 cannot hold (control characters other than tab and line feed, lone
surrogates, U+FFFE/U+FFFF) are dropped, a carriage return is written as
`&#13;` (a parser would otherwise turn it into a line feed) and a literal
`_xHHHH_` is escaped as `_x005F_xHHHH_`, because Excel reads `_xHHHH_` in a
cell as the character HHHH. A sheet holds 1,048,576 rows, so past 1,048,575
data rows the export goes on in a new sheet, header repeated.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO

from crm_exports.domain.columns import Column
from crm_exports.domain.safety import cell_value
from crm_exports.writers.base import (
    SHEET_CELL_MAX_CHARS,
    SheetPager,
    header_cells,
    sheet_cell,
    sheet_name,
)

XLSX_DATA_ROWS_PER_SHEET = 1_048_575
XLSX_MAX_COLUMNS = 16_384
# Deflate level 3, measured on the bench's rows: a file 3% larger than level 6's
# (21% smaller than level 1's) for 16% less writer CPU than level 6 (see README).
XLSX_COMPRESSLEVEL = 3

_SHEET_START = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    "<sheetData>"
)
_SHEET_END = "</sheetData></worksheet>"

# What text needs beyond the fast path: markup characters, the carriage return,
# characters XML 1.0 cannot hold, and Excel's own _xHHHH_ escape.
_NEEDS_ESCAPE = re.compile(
    "[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]|_x[0-9A-Fa-f]{4}_"
)
_REPLACEMENTS = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"}


def _replacement(match: re.Match[str]) -> str:
    found = match.group()
    if len(found) > 1:  # a literal _xHHHH_: escape its underscore so Excel keeps it
        return "_x005F" + found
    return _REPLACEMENTS.get(found, "")  # anything else matched is illegal in XML: dropped


def xml_text(text: str) -> str:
    """Text as XML character data, exact once read back by Excel."""
    if _NEEDS_ESCAPE.search(text) is None:
        return text
    return _NEEDS_ESCAPE.sub(_replacement, text)


def column_letters(index: int) -> str:
    """A, B, ..., Z, AA, ... for column index 0, 1, ..."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


class TooManyColumnsForXlsx(ValueError):
    pass


class XlsxWriter:
    def __init__(
        self,
        path: Path,
        *,
        rows_per_sheet: int = XLSX_DATA_ROWS_PER_SHEET,
        compresslevel: int = XLSX_COMPRESSLEVEL,
    ) -> None:
        if rows_per_sheet > XLSX_DATA_ROWS_PER_SHEET:
            raise ValueError(f"an XLSX sheet holds at most {XLSX_DATA_ROWS_PER_SHEET} data rows")
        self.path = Path(path)
        self._zip = zipfile.ZipFile(
            self.path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=compresslevel,
            allowZip64=True,
        )
        self._pager = SheetPager(rows_per_sheet)
        self._columns: list[tuple[str, str]] = []  # (value type, column letters)
        self._header: list[str] = []
        self._sheet: IO[bytes] | None = None  # the open zip entry of the current sheet
        self._sheet_count = 0

    def write_header(self, columns: Sequence[Column]) -> None:
        if len(columns) > XLSX_MAX_COLUMNS:
            raise TooManyColumnsForXlsx(
                f"XLSX holds at most {XLSX_MAX_COLUMNS} columns, this export has {len(columns)}"
            )
        self._columns = [(c.value_type, column_letters(i)) for i, c in enumerate(columns)]
        self._header = header_cells(columns)

    def write_rows(self, rows: Iterable[Sequence[object]]) -> None:
        chunk: list[str] = []
        for row in rows:
            sheet_number, data_row, new_sheet = self._pager.place()
            if new_sheet:
                self._write(chunk)
                chunk = []
                self._open_sheet(sheet_number)
            chunk.append(self._row_xml(data_row + 1, row))  # sheet rows count from 1, header
        self._write(chunk)

    def close(self) -> list[Path]:
        if self._sheet is None:  # no data rows: still a sheet with the header
            self._open_sheet(0)
        self._close_sheet()
        for name, xml in _package_parts(self._sheet_count).items():
            self._zip.writestr(name, xml)
        self._zip.close()
        return [self.path]

    def _row_xml(self, row_number: int, row: Sequence[object]) -> str:
        if len(row) != len(self._columns):
            raise ValueError(f"row has {len(row)} values for {len(self._columns)} columns")
        r = str(row_number)
        cells = [f'<row r="{r}">']
        # The common cell (short text with nothing to escape, or a number) is one
        # f-string here: per-cell calls are most of this writer's CPU.
        for value, (value_type, letters) in zip(row, self._columns, strict=True):
            if value is None:
                continue
            cell = cell_value(value, value_type)
            if cell.__class__ is str:
                if not cell:
                    continue
                if (len(cell) > SHEET_CELL_MAX_CHARS or cell[0] <= " " or cell[-1] <= " "
                        or _NEEDS_ESCAPE.search(cell) is not None):
                    cells.append(_text_cell(letters, r, cell))
                else:
                    cells.append(f'<c r="{letters}{r}" t="inlineStr"><is><t>{cell}</t></is></c>')
                continue
            cell = sheet_cell(cell)  # an integer too long for Excel's 15 digits becomes text
            if isinstance(cell, str):
                cells.append(_text_cell(letters, r, cell))
            else:
                cells.append(f'<c r="{letters}{r}"><v>{cell!r}</v></c>')
        cells.append("</row>")
        return "".join(cells)

    def _open_sheet(self, sheet_number: int) -> None:
        self._close_sheet()
        self._sheet_count = sheet_number + 1
        name = f"xl/worksheets/sheet{self._sheet_count}.xml"
        self._sheet = self._zip.open(name, "w", force_zip64=True)
        pairs = zip(self._columns, self._header, strict=True)
        header = "".join(_text_cell(letters, "1", text) for (_, letters), text in pairs if text)
        self._write([_SHEET_START, f'<row r="1">{header}</row>'])

    def _close_sheet(self) -> None:
        if self._sheet is not None:
            self._write([_SHEET_END])
            self._sheet.close()
            self._sheet = None

    def _write(self, parts: list[str]) -> None:
        if parts:
            assert self._sheet is not None  # _open_sheet comes first
            self._sheet.write("".join(parts).encode())


def _text_cell(letters: str, r: str, text: str) -> str:
    """One inline-string cell; "" when nothing XML can hold is left of the text."""
    cut = sheet_cell(text)  # cut to 32,767 characters
    assert isinstance(cut, str)
    text = cut
    # White space at either end is kept as written; judged before escaping, since
    # a trailing carriage return becomes "&#13;" (a control character that is
    # dropped only errs towards keeping what remains).
    preserve = text[0] <= " " or text[-1] <= " "
    text = xml_text(text)
    if not text:
        return ""
    if preserve:
        return f'<c r="{letters}{r}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'
    return f'<c r="{letters}{r}" t="inlineStr"><is><t>{text}</t></is></c>'


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "{sheets}</Types>"
)
_SHEET_CONTENT_TYPE = (
    '<Override PartName="/xl/worksheets/sheet{n}.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
)
_PACKAGE_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    "<sheets>{sheets}</sheets></workbook>"
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    "{sheets}"
    '<Relationship Id="rIdStyles" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/styles" Target="styles.xml"/></Relationships>'
)
_SHEET_REL = (
    '<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet{n}.xml"/>'
)
# One font, the two fills Excel expects (none, gray125), one border, one format.
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def _package_parts(sheet_count: int) -> dict[str, str]:
    """The parts that list the sheets, written once their number is known."""
    numbers = range(1, sheet_count + 1)
    sheets = "".join(
        f'<sheet name="{sheet_name(n - 1)}" sheetId="{n}" r:id="rId{n}"/>' for n in numbers
    )
    return {
        "[Content_Types].xml": _CONTENT_TYPES.format(
            sheets="".join(_SHEET_CONTENT_TYPE.format(n=n) for n in numbers)
        ),
        "_rels/.rels": _PACKAGE_RELS,
        "xl/workbook.xml": _WORKBOOK.format(sheets=sheets),
        "xl/_rels/workbook.xml.rels": _WORKBOOK_RELS.format(
            sheets="".join(_SHEET_REL.format(n=n) for n in numbers)
        ),
        "xl/styles.xml": _STYLES,
    }
