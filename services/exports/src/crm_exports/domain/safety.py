"""Formula safety for every export format (R-EXP-6).

A spreadsheet treats a cell starting with =, +, -, @ (and, after a tab or a
carriage return, whatever follows) as a formula. Following the OWASP CSV
injection guidance such text is prefixed with a single quote, so it is shown,
never run. Values of number-typed properties that parse as finite numbers are
returned as numbers instead: a number cell cannot hold a formula, and "-12.5"
must stay a number a user can sum.

Dates and datetimes stay ISO 8601 text ("2024-03-01", "2024-03-01T09:30:00Z"):
the stored value already says its time zone, and a date cell would silently
turn it into the reader's local time. ISO text sorts correctly and every
spreadsheet can convert it.
"""

from __future__ import annotations

import math
from datetime import date, datetime

FORMULA_TRIGGERS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
NUMBER_TYPES = frozenset({"number"})

Cell = str | int | float


def neutralise(value: str) -> str:
    """Prefix text a spreadsheet would read as a formula with a single quote."""
    if value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _as_number(value: object) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return None
    # "nan", "inf" and "1e999" parse as floats but are not numbers a sheet can hold.
    return number if math.isfinite(number) else None


def _as_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def cell_value(value: object, value_type: str) -> Cell:
    """The safe cell for a raw value: a number for number-typed values, else neutral text."""
    if value is None:
        return ""
    if value_type in NUMBER_TYPES:
        number = _as_number(value)
        if number is not None:
            return number
    return neutralise(_as_text(value))
