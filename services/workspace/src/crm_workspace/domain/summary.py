"""The Summary tab's rules (R-CSW-3): alert expiry and the health overview."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

ALERT_LIFETIME = timedelta(days=14)
HEALTH_BANDS = ("at_risk", "neutral", "healthy")


def alert_expires_at(fired_at: datetime) -> datetime:
    return fired_at + ALERT_LIFETIME


def alert_active(fired_at: datetime, now: datetime) -> bool:
    """An alert shows for 14 days after it fired; there is no cap on how many."""
    return fired_at <= now < alert_expires_at(fired_at)


@dataclass(frozen=True)
class HealthTally:
    """How many of the user's customers have a band and a score decile (0 = 0-9,
    ..., 9 = 90-100), and the sum of their scores."""

    band: str
    decile: int
    customers: int
    score_sum: float


@dataclass(frozen=True)
class HealthOverview:
    average_score: float | None
    bands: Mapping[str, Mapping[str, Any]]  # band -> {count, share, link}
    # Customers per score decile, "0-9" ... "90-100" (the Enterprise distribution).
    distribution: Mapping[str, int]


def decile_label(decile: int) -> str:
    return f"{decile * 10}-{decile * 10 + (10 if decile == 9 else 9)}"


def health_overview(tallies: Sequence[HealthTally], link_for_band: Mapping[str, str]
                    ) -> HealthOverview | None:
    """Average score, count and share per band, and the score distribution of the
    user's customers' current scores. None when no customer has a score."""
    total = sum(t.customers for t in tallies)
    if not total:
        return None
    bands = {}
    for band in HEALTH_BANDS:
        count = sum(t.customers for t in tallies if t.band == band)
        bands[band] = {"count": count, "share": round(count / total, 4),
                       "link": link_for_band[band]}
    distribution = {decile_label(d): sum(t.customers for t in tallies if t.decile == d)
                    for d in range(10)}
    return HealthOverview(round(sum(t.score_sum for t in tallies) / total, 2), bands,
                          distribution)


@dataclass(frozen=True)
class ScoreChange:
    customer_id: int
    changed_at: datetime
    score: float | None  # None: the customer left the profile's segments


def average_over_time(starting: Mapping[int, float | None], changes: Sequence[ScoreChange],
                      days: Sequence[tuple[date, datetime]]) -> list[dict[str, Any]]:
    """Each day's average of the customers' newest scores as of that day's end
    (Enterprise, R-CSW-3 / R-HLTH-4). `starting` holds each customer's score before
    the first day; `days` are (day, its end) in order. A day with no scored
    customer has no average."""
    current = {c: s for c, s in starting.items() if s is not None}
    pending = sorted(changes, key=lambda c: c.changed_at)
    out, next_change = [], 0
    for day, end in days:
        while next_change < len(pending) and pending[next_change].changed_at < end:
            change = pending[next_change]
            if change.score is None:
                current.pop(change.customer_id, None)
            else:
                current[change.customer_id] = change.score
            next_change += 1
        average = round(sum(current.values()) / len(current), 2) if current else None
        out.append({"date": day.isoformat(), "averageScore": average,
                    "customers": len(current)})
    return out
