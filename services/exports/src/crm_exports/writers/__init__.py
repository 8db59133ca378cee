"""File writers: stream rows to CSV, XLSX or XLS on disk, then zip when large."""

from crm_exports.writers.base import ExportWriter, open_writer
from crm_exports.writers.csv_writer import CsvWriter
from crm_exports.writers.stream import ExportedFile, stream_export
from crm_exports.writers.xls_writer import XlsWriter
from crm_exports.writers.xlsx_writer import XlsxWriter
from crm_exports.writers.zipping import maybe_zip, should_zip

__all__ = [
    "CsvWriter",
    "ExportWriter",
    "ExportedFile",
    "XlsWriter",
    "XlsxWriter",
    "maybe_zip",
    "open_writer",
    "should_zip",
    "stream_export",
]
