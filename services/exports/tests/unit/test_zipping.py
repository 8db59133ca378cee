import zipfile

import pytest

from crm_exports.writers.zipping import (
    ZIP_CSV_BYTES_THRESHOLD,
    ZIP_ROWS_THRESHOLD,
    maybe_zip,
    should_zip,
)

MiB = 1024 * 1024


def test_documented_thresholds():
    assert ZIP_ROWS_THRESHOLD == 1_000_000
    assert ZIP_CSV_BYTES_THRESHOLD == 50 * MiB


@pytest.mark.parametrize(
    "suffix, rows, size, zipped",
    [
        (".csv", 1_000_000, 10 * MiB, False),
        (".csv", 1_000_001, 10 * MiB, True),
        (".xlsx", 1_000_000, 500 * MiB, False),
        (".xlsx", 1_000_001, 1 * MiB, True),
        (".xls", 1_000_001, 1 * MiB, True),
        (".csv", 10, 50 * MiB, False),
        (".csv", 10, 50 * MiB + 1, True),
        (".CSV", 10, 50 * MiB + 1, True),
        (".xlsx", 10, 50 * MiB + 1, False),
        (".xls", 10, 50 * MiB + 1, False),
    ],
)
def test_zip_past_a_million_rows_or_a_large_csv(suffix, rows, size, zipped):
    assert should_zip(suffix, rows, size) is zipped


def test_maybe_zip_replaces_a_large_file_by_a_zip_holding_it(tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_bytes(b"Record ID\r\n1\r\n")
    delivered = maybe_zip(path, row_count=ZIP_ROWS_THRESHOLD + 1)
    assert delivered == tmp_path / "contacts.csv.zip"
    assert not path.exists()
    with zipfile.ZipFile(delivered) as zf:
        assert zf.namelist() == ["contacts.csv"]
        assert zf.read("contacts.csv") == b"Record ID\r\n1\r\n"


def test_maybe_zip_uses_the_size_given_or_measures_the_file(tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_bytes(b"x")
    assert maybe_zip(path, row_count=1) == path
    assert maybe_zip(path, row_count=1, size=ZIP_CSV_BYTES_THRESHOLD + 1).suffix == ".zip"
