"""Streaming pages of records into a writer (R-EXP-1, R-EXP-4)."""

import csv

import pytest

from crm_exports.domain.associations import AllAssociationsNeedCsv, AssociationMode, ExportFormat
from crm_exports.domain.columns import Column
from crm_exports.domain.rows import AssociatedRecord, ExportRecord, RowOptions
from crm_exports.writers import CsvWriter, XlsxWriter, stream_export

COLUMNS = [
    Column("hs_object_id", "Record ID", "record_id", "number"),
    Column("firstname", "First Name", "property", "string"),
    Column("companies", "Associated Company", "association", "string", "names"),
]


class RecordingWriter:
    """Records when each page's rows arrive, to show rows are written page by page."""

    def __init__(self):
        self.events = []

    def write_header(self, columns):
        self.events.append(("header", [c.header for c in columns]))

    def write_rows(self, rows):
        self.events.append(("rows", [row[0] for row in rows]))

    def close(self):
        self.events.append(("close",))
        return []


def record(i: int) -> ExportRecord:
    return ExportRecord(
        id=i,
        properties={"firstname": f"=name {i}"},
        associations={"companies": [AssociatedRecord(100 + i, f"Company {i}")]},
    )


async def test_each_page_is_written_before_the_next_is_fetched():
    # R-EXP-1: streamed page by page, so memory holds one page at a time
    writer = RecordingWriter()
    fetched = []

    async def pages():
        for start in (1, 3):
            fetched.append(start)
            # the previous page must already be written when the next is fetched
            assert len([e for e in writer.events if e[0] == "rows"]) == len(fetched) - 1
            yield [record(start), record(start + 1)]

    result = await stream_export(pages(), COLUMNS, writer, RowOptions(fmt=ExportFormat.CSV))
    assert result.row_count == 4
    assert writer.events == [
        ("header", ["Record ID", "First Name", "Associated Company"]),
        ("rows", [1, 2]),
        ("rows", [3, 4]),
        ("close",),
    ]


async def test_stream_to_csv_end_to_end(tmp_path):
    # R-EXP-1, R-EXP-4, R-EXP-6
    async def pages():
        yield [record(1)]
        yield [record(2)]

    result = await stream_export(
        pages(), COLUMNS, CsvWriter(tmp_path / "e.csv"), RowOptions(fmt=ExportFormat.CSV)
    )
    [path] = result.paths
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows == [
        ["Record ID", "First Name", "Associated Company"],
        ["1", "'=name 1", "Company 1"],
        ["2", "'=name 2", "Company 2"],
    ]


async def test_all_associations_in_xlsx_is_refused_before_writing(tmp_path):
    # R-EXP-4
    async def pages():
        yield [record(1)]

    writer = RecordingWriter()
    with pytest.raises(AllAssociationsNeedCsv):
        await stream_export(
            pages(),
            COLUMNS,
            writer,
            RowOptions(fmt=ExportFormat.XLSX, association_mode=AssociationMode.ALL),
        )
    assert writer.events == []


async def test_a_failing_source_still_closes_the_file(tmp_path):
    async def pages():
        yield [record(1)]
        raise RuntimeError("records service went away")

    writer = XlsxWriter(tmp_path / "e.xlsx")
    with pytest.raises(RuntimeError):
        await stream_export(pages(), COLUMNS, writer, RowOptions(fmt=ExportFormat.XLSX))
    assert (tmp_path / "e.xlsx").exists()
