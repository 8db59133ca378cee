"""The three writers, read back with openpyxl (XLSX), xlrd (XLS) and csv.

These tests write real files, but only under pytest's tmp_path: no network,
no servers.
"""

import csv
import inspect
from pathlib import Path

import openpyxl
import pytest
import xlrd

from crm_exports.domain.columns import Column
from crm_exports.domain.safety import FORMULA_TRIGGERS
from crm_exports.writers import CsvWriter, XlsWriter, XlsxWriter
from crm_exports.writers.xls_writer import XLS_DATA_ROWS_PER_SHEET, TooManyColumnsForXls
from crm_exports.writers.xlsx_writer import XLSX_DATA_ROWS_PER_SHEET

COLUMNS = [
    Column("hs_object_id", "Record ID", "record_id", "number"),
    Column("firstname", "Voornaam", "property", "string"),
    Column("amount", "Bedrag", "property", "number"),
    Column("createdate", "Aanmaakdatum", "property", "datetime"),
]

DANGEROUS = ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1+1", "\r=1+1"]


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def read_xlsx(path: Path) -> dict[str, list[list[object]]]:
    workbook = openpyxl.load_workbook(path, read_only=True)
    sheets = {
        ws.title: [["" if v is None else v for v in row] for row in ws.iter_rows(values_only=True)]
        for ws in workbook.worksheets
    }
    workbook.close()
    return sheets


def read_xls(path: Path) -> dict[str, list[list[object]]]:
    book = xlrd.open_workbook(str(path))
    return {
        sheet.name: [sheet.row_values(r) for r in range(sheet.nrows)] for sheet in book.sheets()
    }


def write(writer_class, path: Path, rows, columns=COLUMNS, **kwargs) -> list[Path]:
    writer = writer_class(path, **kwargs)
    writer.write_header(columns)
    writer.write_rows(rows)
    return writer.close()


@pytest.mark.parametrize("trigger", FORMULA_TRIGGERS)
def test_csv_neutralises_each_formula_trigger(tmp_path, trigger):
    # R-EXP-6
    value = trigger + 'HYPERLINK("http://x")'
    [path] = write(CsvWriter, tmp_path / "e.csv", [[1, value, "-12.5", "2024-03-01"]])
    header, row = read_csv(path)
    assert row == ["1", "'" + value, "-12.5", "2024-03-01"]


@pytest.mark.parametrize("trigger", FORMULA_TRIGGERS)
def test_xlsx_neutralises_each_formula_trigger_and_writes_no_formula(tmp_path, trigger):
    # R-EXP-6
    value = trigger + "1+1"
    [path] = write(XlsxWriter, tmp_path / "e.xlsx", [[1, value, "-12.5", "2024-03-01"]])
    workbook = openpyxl.load_workbook(path)  # not read-only: data_type says "f" for formulas
    cells = list(workbook.active.iter_rows(min_row=2, max_row=2))[0]
    assert cells[1].value == "'" + value  # a leading tab or carriage return exactly kept
    assert cells[1].data_type == "s"
    assert not any(cell.data_type == "f" for row in workbook.active.iter_rows() for cell in row)
    assert cells[2].value == -12.5 and cells[2].data_type == "n"


@pytest.mark.parametrize("trigger", FORMULA_TRIGGERS)
def test_xls_neutralises_each_formula_trigger(tmp_path, trigger):
    # R-EXP-6
    value = trigger + "1+1"
    [path] = write(XlsWriter, tmp_path / "e.xls", [[1, value, "-12.5", "2024-03-01"]])
    sheet = xlrd.open_workbook(str(path)).sheet_by_index(0)
    assert sheet.cell(1, 1).value == "'" + value
    assert sheet.cell(1, 1).ctype == xlrd.XL_CELL_TEXT
    assert sheet.cell(1, 2).value == -12.5
    assert sheet.cell(1, 2).ctype == xlrd.XL_CELL_NUMBER


def test_header_from_a_custom_label_is_neutralised_too(tmp_path):
    # R-EXP-6
    columns = [Column("evil", "=cmd|' /C calc'!A0", "property", "string")]
    [path] = write(CsvWriter, tmp_path / "e.csv", [["x"]], columns=columns)
    assert read_csv(path)[0] == ["'=cmd|' /C calc'!A0"]


@pytest.mark.parametrize("writer_class, suffix", [(XlsxWriter, "xlsx"), (XlsWriter, "xls")])
def test_numbers_stay_numbers_in_spreadsheets(tmp_path, writer_class, suffix):
    # R-EXP-6
    rows = [[1, "Ann", "-12.5", "2024-03-01T09:30:00Z"], [2, "Bob", "1000", None]]
    [path] = write(writer_class, tmp_path / f"e.{suffix}", rows)
    read = read_xlsx if suffix == "xlsx" else read_xls
    [sheet] = read(path).values()
    assert sheet[0] == ["Record ID", "Voornaam", "Bedrag", "Aanmaakdatum"]
    assert sheet[1] == [1, "Ann", -12.5, "2024-03-01T09:30:00Z"]
    assert sheet[2][:3] == [2, "Bob", 1000]
    assert isinstance(sheet[1][2], float)


def test_csv_is_utf8_with_bom_crlf_and_rfc4180_quoting(tmp_path):
    # R-EXP-1: decisions documented in the README
    rows = [[1, 'Zoë "the boss", Jr.\nline two', "-12.5", ""]]
    [path] = write(CsvWriter, tmp_path / "e.csv", rows)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.endswith(b"\r\n")
    assert b'"Zo\xc3\xab ""the boss"", Jr.\nline two"' in raw
    assert read_csv(path)[1] == ["1", 'Zoë "the boss", Jr.\nline two', "-12.5", ""]


def test_csv_without_bom_on_request(tmp_path):
    [path] = write(CsvWriter, tmp_path / "e.csv", [], bom=False)
    assert path.read_bytes().startswith(b"Record ID,")


@pytest.mark.parametrize(
    "writer_class, suffix, read",
    [(XlsxWriter, "xlsx", read_xlsx), (XlsWriter, "xls", read_xls)],
)
def test_sheet_rollover_repeats_the_header(tmp_path, writer_class, suffix, read):
    # R-EXP-1: XLS holds 65,535 data rows a sheet; the rest go on new sheets
    rows = [[i, f"name {i}", str(i), ""] for i in range(1, 8)]
    [path] = write(writer_class, tmp_path / f"e.{suffix}", rows, rows_per_sheet=3)
    sheets = read(path)
    assert list(sheets) == ["Export", "Export 2", "Export 3"]
    headers = ["Record ID", "Voornaam", "Bedrag", "Aanmaakdatum"]
    assert all(sheet[0] == headers for sheet in sheets.values())
    ids = [row[0] for sheet in sheets.values() for row in sheet[1:]]
    assert ids == [1, 2, 3, 4, 5, 6, 7]
    assert [len(sheet) - 1 for sheet in sheets.values()] == [3, 3, 1]


def test_default_sheet_limits():
    # R-EXP-1: the format limits, header row excluded
    assert XLS_DATA_ROWS_PER_SHEET == 65_535
    assert inspect.signature(XlsWriter).parameters["rows_per_sheet"].default == 65_535
    assert XLSX_DATA_ROWS_PER_SHEET == 1_048_575


def test_xls_default_limit_really_rolls_over_after_65535_rows(tmp_path):
    # R-EXP-1: one real check of the default, with one-column rows to stay quick
    columns = [Column("hs_object_id", "Record ID", "record_id", "number")]
    rows = ([i] for i in range(1, 65_537))
    [path] = write(XlsWriter, tmp_path / "e.xls", rows, columns=columns)
    book = xlrd.open_workbook(str(path))
    assert [s.nrows for s in book.sheets()] == [65_536, 2]
    assert book.sheet_by_index(1).row_values(1) == [65_536]


def test_xls_refuses_more_than_256_columns(tmp_path):
    columns = [Column(f"p{i}", f"P{i}", "property", "string") for i in range(257)]
    with pytest.raises(TooManyColumnsForXls):
        XlsWriter(tmp_path / "e.xls").write_header(columns)


@pytest.mark.parametrize(
    "writer_class, suffix, read",
    [(XlsxWriter, "xlsx", read_xlsx), (XlsWriter, "xls", read_xls)],
)
def test_empty_export_still_has_its_header(tmp_path, writer_class, suffix, read):
    [path] = write(writer_class, tmp_path / f"e.{suffix}", [])
    assert list(read(path).values()) == [[["Record ID", "Voornaam", "Bedrag", "Aanmaakdatum"]]]


@pytest.mark.parametrize("writer_class, suffix", [(XlsxWriter, "xlsx"), (XlsWriter, "xls")])
def test_long_ids_and_long_text_fit_the_sheet_exactly(tmp_path, writer_class, suffix):
    columns = [
        Column("big", "Big", "property", "number"),
        Column("notes", "Notes", "property", "string"),
    ]
    [path] = write(
        writer_class,
        tmp_path / f"e.{suffix}",
        [["12345678901234567890", "x" * 40_000]],
        columns=columns,
    )
    read = read_xlsx if suffix == "xlsx" else read_xls
    [sheet] = read(path).values()
    assert sheet[1][0] == "12345678901234567890"
    assert len(sheet[1][1]) == 32_767


def test_a_row_of_the_wrong_width_is_refused(tmp_path):
    writer = CsvWriter(tmp_path / "e.csv")
    writer.write_header(COLUMNS)
    with pytest.raises(ValueError):
        writer.write_rows([[1, "Ann"]])
    writer.close()
