"""Timeline order (R-REC-7): newest first by hs_timestamp, then by id, newest first.

An engagement without a usable hs_timestamp falls back to hs_createdate and,
failing that, sorts after every dated one. `timeline_position` doubles as a
paging cursor: the next page holds the items whose position is below the last
one shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar

from crm_records.domain.properties import is_blank, parse_datetime

_UNDATED = -(2**63)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class TimelineItem(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def properties(self) -> Mapping[str, str | None]: ...


Item = TypeVar("Item", bound=TimelineItem)


def _epoch_ms(value: str | None) -> int | None:
    if is_blank(value):
        return None
    try:
        return (parse_datetime(value) - _EPOCH) // timedelta(milliseconds=1)
    except (ValueError, OverflowError, OSError):
        return None


def timeline_position(item: TimelineItem) -> tuple[int, int]:
    """(epoch ms, id): larger is newer."""
    for name in ("hs_timestamp", "hs_createdate"):
        moment = _epoch_ms(item.properties.get(name))
        if moment is not None:
            return moment, int(item.id)
    return _UNDATED, int(item.id)


def newest_first(items: Iterable[Item]) -> list[Item]:
    return sorted(items, key=timeline_position, reverse=True)


def page_after(items: Iterable[Item], cursor: tuple[int, int] | None, limit: int) -> list[Item]:
    """One page, newest first, of the items older than `cursor` (None: from the newest)."""
    ordered = newest_first(items)
    if cursor is not None:
        ordered = [item for item in ordered if timeline_position(item) < cursor]
    return ordered[:limit]
