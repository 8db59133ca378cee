"""Our streaming XLSX writer: a valid package, read back by openpyxl.

Files are written only under pytest's tmp_path.
"""

import zipfile
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import pytest
from openpyxl.utils.escape import unescape

from crm_exports.domain.columns import Column
from crm_exports.writers import XlsxWriter
from crm_exports.writers.xlsx_writer import (
    TooManyColumnsForXlsx,
    column_letters,
    xml_text,
)

COLUMNS = [
    Column("hs_object_id", "Record ID", "record_id", "number"),
    Column("firstname", "Voornaam", "property", "string"),
    Column("amount", "Bedrag", "property", "number"),
    Column("notes", "Notities", "property", "string"),
]


def write(path: Path, rows, columns=COLUMNS, **kwargs) -> Path:
    writer = XlsxWriter(path, **kwargs)
    writer.write_header(columns)
    writer.write_rows(rows)
    [written] = writer.close()
    return written


def cells(path: Path) -> list[list[tuple[object, str]]]:
    """(value, data type) of each cell, from openpyxl's full (not read-only) reader."""
    workbook = openpyxl.load_workbook(path)
    return [[(c.value, c.data_type) for c in row] for row in workbook.active.iter_rows()]


def test_the_package_holds_the_minimal_parts_and_each_is_well_formed_xml(tmp_path):
    # R-EXP-1: a valid XLSX package
    path = write(tmp_path / "e.xlsx", [[1, "Ann", "12", "x"]])
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        names = set(zf.namelist())
        assert names == {
            "[Content_Types].xml", "_rels/.rels", "xl/workbook.xml",
            "xl/_rels/workbook.xml.rels", "xl/styles.xml", "xl/worksheets/sheet1.xml",
        }
        for name in names:
            ElementTree.fromstring(zf.read(name))  # raises on malformed XML
        assert all(info.compress_type == zipfile.ZIP_DEFLATED for info in zf.infolist())
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == ["Export"]


def test_unicode_numbers_empty_cells_and_formulas_read_back_exactly(tmp_path):
    # R-EXP-6: neutralised text, numbers as numbers, no formula anywhere
    rows = [
        [1, "Zoë Ødegård 日本語 🙂", "-12.5", "=HYPERLINK(\"http://x\")"],
        [2, None, None, ""],
        [3, "<b>Tom & Jerry</b> \"quoted\" 'single'", "1e3", "line one\nline two"],
        [4, "@SUM(A1)", "not a number", "+31 20 123 4567"],
    ]
    path = write(tmp_path / "e.xlsx", rows)
    read = cells(path)
    assert [v for v, _ in read[0]] == ["Record ID", "Voornaam", "Bedrag", "Notities"]
    assert read[1] == [(1, "n"), ("Zoë Ødegård 日本語 🙂", "s"), (-12.5, "n"),
                       ("'=HYPERLINK(\"http://x\")", "s")]
    assert read[2] == [(2, "n"), (None, "n"), (None, "n"), (None, "n")]  # empty cells stay empty
    assert read[3] == [(3, "n"), ("<b>Tom & Jerry</b> \"quoted\" 'single'", "s"), (1000, "n"),
                       ("line one\nline two", "s")]
    # a number property whose value is no number is neutralised text
    assert read[4] == [(4, "n"), ("'@SUM(A1)", "s"), ("not a number", "s"),
                       ("'+31 20 123 4567", "s")]
    assert not any(data_type == "f" for row in read for _, data_type in row)


def test_long_text_is_cut_to_the_cell_limit_after_escaping_nothing_away(tmp_path):
    # R-EXP-1
    # 32,767 characters, each "&" escaped in the XML but counted as one character
    path = write(tmp_path / "e.xlsx", [[1, "&" * 40_000, None, "é" * 32_767]])
    row = cells(path)[1]
    assert row[1] == ("&" * 32_767, "s")
    assert row[3] == ("é" * 32_767, "s")


def test_white_space_at_either_end_and_carriage_returns_are_kept(tmp_path):
    # R-EXP-1 R-EXP-6: a neutralised "\r=..." keeps its carriage return
    path = write(tmp_path / "e.xlsx", [[1, "  padded  ", None, "a\r\nb\rc\r"]])
    row = cells(path)[1]
    assert row[1] == ("  padded  ", "s")
    assert row[3] == ("a\r\nb\rc\r", "s")
    sheet = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
    # Excel trims white space at either end of a <t> unless told to keep it
    assert b'<t xml:space="preserve">  padded  </t>' in sheet
    assert b'<t xml:space="preserve">a&#13;\nb&#13;c&#13;</t>' in sheet


def test_characters_xml_cannot_hold_are_dropped_and_excel_escapes_kept_literal(tmp_path):
    # R-EXP-1
    text = "bell\x07 nul\x00 esc\x1b lone\ud800 noncharacter\uffff tab\tok"
    path = write(tmp_path / "e.xlsx", [[1, text, None, "_x000D_ is literal"]])
    row = cells(path)[1]
    assert row[1] == ("bell nul esc lone noncharacter tab\tok", "s")
    # Excel reads _xHHHH_ as an escape (openpyxl's unescape does the same): the
    # writer escapes the underscore, so a reader that decodes sees the original.
    assert unescape(row[3][0]) == "_x000D_ is literal"


def test_a_cell_with_nothing_xml_can_hold_is_left_empty(tmp_path):
    path = write(tmp_path / "e.xlsx", [[1, "\x01\x02", None, "x"]])
    assert cells(path)[1] == [(1, "n"), (None, "n"), (None, "n"), ("x", "s")]


def test_xml_text_fast_path_returns_the_same_text():
    plain = "Customer Success Manager"
    assert xml_text(plain) is plain
    assert xml_text("a<b>&c") == "a&lt;b&gt;&amp;c"


def test_column_letters():
    assert [column_letters(i) for i in (0, 1, 25, 26, 27, 51, 52, 701, 702, 16_383)] == [
        "A", "B", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA", "XFD",
    ]


def test_wide_exports_use_the_right_column_letters(tmp_path):
    columns = [Column(f"p{i}", f"P{i}", "property", "string") for i in range(30)]
    path = write(tmp_path / "e.xlsx", [[f"v{i}" for i in range(30)]], columns=columns)
    worksheet = openpyxl.load_workbook(path).active
    assert worksheet["AD1"].value == "P29" and worksheet["AD2"].value == "v29"
    assert worksheet["Z2"].value == "v25"


def test_more_columns_than_a_sheet_holds_are_refused(tmp_path):
    columns = [Column(f"p{i}", f"P{i}", "property", "string") for i in range(16_385)]
    writer = XlsxWriter(tmp_path / "e.xlsx")
    with pytest.raises(TooManyColumnsForXlsx, match="16384 columns"):
        writer.write_header(columns)
    writer.close()


def test_rows_reach_the_disk_page_by_page_not_at_close(tmp_path):
    # R-EXP-1 flat memory: a page's rows are compressed into the file as they are written
    path = tmp_path / "e.xlsx"
    writer = XlsxWriter(path)
    writer.write_header(COLUMNS)
    sizes = []
    for page in range(5):
        start = page * 2_000
        writer.write_rows([i, f"name {i}", str(i), f"note {i * 7919}"]
                          for i in range(start, start + 2_000))
        sizes.append(path.stat().st_size)
    writer.close()
    assert sizes[0] > 0
    assert sizes == sorted(sizes) and sizes[-1] > 2 * sizes[0]


def test_the_default_sheet_limit_really_rolls_over_after_1048575_rows(tmp_path):
    # R-EXP-1: one real check of the default (1,048,576 rows with the header)
    columns = [Column("hs_object_id", "Record ID", "record_id", "number")]
    rows = ([i] for i in range(1, 1_048_577))
    path = write(tmp_path / "e.xlsx", rows, columns=columns, compresslevel=1)
    with zipfile.ZipFile(path) as zf:
        first = zf.read("xl/worksheets/sheet1.xml")
        assert first.endswith(b'<row r="1048576"><c r="A1048576"><v>1048575</v></c></row>'
                              b"</sheetData></worksheet>")
    workbook = openpyxl.load_workbook(path, read_only=True)
    assert workbook.sheetnames == ["Export", "Export 2"]
    second = list(workbook["Export 2"].iter_rows(values_only=True))
    assert second == [("Record ID",), (1_048_576,)]
    workbook.close()


def test_a_sheet_cannot_be_set_larger_than_the_format_allows(tmp_path):
    with pytest.raises(ValueError, match="1048575"):
        XlsxWriter(tmp_path / "e.xlsx", rows_per_sheet=1_048_576)
