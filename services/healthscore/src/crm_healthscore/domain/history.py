"""Score history per profile (R-HLTH-4): band counts and average, daily; and the preview
of a profile's distribution before publishing it (R-HLTH-6)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from .bands import AT_RISK, HEALTHY, NEUTRAL
from .changes import ScoreChange
from .facts import CustomerFacts
from .profile import Profile
from .scoring import Scorer


@dataclass(frozen=True)
class Distribution:
    at_risk: int = 0
    neutral: int = 0
    healthy: int = 0
    average: float | None = None  # None when no customer has a score

    @property
    def total(self) -> int:
        return self.at_risk + self.neutral + self.healthy


@dataclass(frozen=True)
class DailyPoint:
    day: date
    distribution: Distribution


def distribution(latest: Iterable[tuple[int, str]]) -> Distribution:
    """From each customer's latest (score, band)."""
    counts = {AT_RISK: 0, NEUTRAL: 0, HEALTHY: 0}
    total = 0
    for value, band_name in latest:
        counts[band_name] += 1
        total += value
    scored = sum(counts.values())
    return Distribution(
        at_risk=counts[AT_RISK], neutral=counts[NEUTRAL], healthy=counts[HEALTHY],
        average=round(total / scored, 2) if scored else None,
    )


def daily_history(changes: Iterable[ScoreChange], first_day: date,
                  last_day: date) -> list[DailyPoint]:
    """Replay one profile's changes: each day's distribution as it stood at the end of that
    day (UTC). Changes may come in any order."""
    ordered = sorted(changes, key=lambda c: c.at)
    latest: dict[str, tuple[int, str]] = {}
    points: list[DailyPoint] = []
    position = 0
    day = first_day
    while day <= last_day:
        day_ends = datetime.combine(day + timedelta(days=1), time(), UTC)
        while position < len(ordered) and ordered[position].at < day_ends:
            change = ordered[position]
            if change.new_score is None or change.new_band is None:
                latest.pop(change.customer_id, None)
            else:
                latest[change.customer_id] = (change.new_score, change.new_band)
            position += 1
        points.append(DailyPoint(day, distribution(latest.values())))
        day += timedelta(days=1)
    return points


def preview_distribution(profile: Profile, facts: Iterable[CustomerFacts],
                         now: datetime) -> Distribution:
    """What a (draft) profile would give over these customers, writing nothing. The
    caller chooses the customers (those of the profile's segments)."""
    scorer = Scorer(profile)
    return distribution((result.score, result.band)
                        for result in (scorer.score(one, now) for one in facts))
