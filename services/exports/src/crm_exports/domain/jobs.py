"""An export job's states, as the hosted CRM names them, and what may follow what.

PENDING     stored, waiting its turn (behind the account's other exports)
PROCESSING  rows are being written; progress is stored page by page
COMPLETE    the file is stored; links to it can be signed
CANCELED    stopped by its user; no file is kept
FAILED      stopped by an error; `reason` says why, for the user

A job that stops PROCESSING without finishing (its process died) is taken up
again from the start once its lease runs out, at most MAX_ATTEMPTS times.
"""

from __future__ import annotations

from enum import StrEnum

MAX_ATTEMPTS = 3
# XLS holds 65,535 data rows a sheet; beyond that the export is refused rather
# than rolled over: xlwt builds the whole file in memory (about 1.4 KiB a row,
# ~119 MiB at 65,535 rows), so bigger XLS files would grow without bound.
XLS_MAX_ROWS = 65_535


class JobStatus(StrEnum):
    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    COMPLETE = "COMPLETE"
    CANCELED = "CANCELED"
    FAILED = "FAILED"


FINAL_STATUSES = frozenset({JobStatus.COMPLETE, JobStatus.CANCELED, JobStatus.FAILED})


class CannotCancel(ValueError):
    pass


def check_cancelable(status: JobStatus) -> None:
    """Only a job that has not finished can be canceled."""
    if status in FINAL_STATUSES:
        raise CannotCancel(f"the export is already {status.value} and cannot be canceled")


class TooManyRowsForXls(ValueError):
    def __init__(self) -> None:
        super().__init__(
            f"XLS exports hold at most {XLS_MAX_ROWS:,} rows and this one has more; "
            "export as CSV or XLSX instead")


def check_xls_rows(row_count: int) -> None:
    if row_count > XLS_MAX_ROWS:
        raise TooManyRowsForXls()


def progress_percent(rows_written: int, rows_expected: int | None) -> float | None:
    """Share of the rows written, or None while the total is unknown (over 10,000)."""
    if not rows_expected:
        return None
    return round(min(100.0, 100.0 * rows_written / rows_expected), 1)
