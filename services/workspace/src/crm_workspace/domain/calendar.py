"""Days in the user's time zone: task due buckets (R-CSW-3, R-CSW-7) and the
schedule's day, week and month windows (R-CSW-8). Pure: the caller passes now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SPANS = ("day", "week", "month")


class UnknownTimeZone(ValueError):
    pass


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UnknownTimeZone(f"'{name}' is not an IANA time zone") from None


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant a local day starts (DST-safe: built from the local date)."""
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)


@dataclass(frozen=True)
class DueWindows:
    """UTC bounds of yesterday-and-before, today and tomorrow in one time zone."""

    today_start: datetime
    tomorrow_start: datetime
    day_after_start: datetime


def due_windows(now: datetime, tz: ZoneInfo) -> DueWindows:
    today = now.astimezone(tz).date()
    return DueWindows(local_midnight(today, tz), local_midnight(today + timedelta(days=1), tz),
                      local_midnight(today + timedelta(days=2), tz))


def due_bucket(due: datetime | None, completed: bool, windows: DueWindows) -> str | None:
    """'overdue', 'today', 'tomorrow' or None (later, undated or done)."""
    if completed or due is None:
        return None
    if due < windows.today_start:
        return "overdue"
    if due < windows.tomorrow_start:
        return "today"
    if due < windows.day_after_start:
        return "tomorrow"
    return None


@dataclass(frozen=True)
class ScheduleWindow:
    span: str
    days: tuple[date, ...]        # the local days shown (weekends left out on request)
    start: datetime               # UTC bounds of the whole span, weekends included
    end: datetime
    previous_anchor: date
    next_anchor: date


def schedule_window(span: str, anchor: date, tz: ZoneInfo, *, hide_weekends: bool = False
                    ) -> ScheduleWindow:
    """The day, week (Monday first) or month holding `anchor`, and the anchors of
    the spans before and after it (the back and forth buttons)."""
    if span == "day":
        first, last = anchor, anchor
        previous, following = anchor - timedelta(days=1), anchor + timedelta(days=1)
    elif span == "week":
        first = anchor - timedelta(days=anchor.weekday())
        last = first + timedelta(days=6)
        previous, following = first - timedelta(days=7), first + timedelta(days=7)
    elif span == "month":
        first = anchor.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        last = following - timedelta(days=1)
        previous = (first - timedelta(days=1)).replace(day=1)
    else:
        raise ValueError(f"span must be one of {', '.join(SPANS)}")
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    if hide_weekends:
        days = [d for d in days if d.weekday() < 5]
    return ScheduleWindow(span, tuple(days), local_midnight(first, tz),
                          local_midnight(last + timedelta(days=1), tz), previous, following)


def local_day(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()
