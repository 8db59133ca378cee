"""The Summary tab's rules (R-CSW-3): alert expiry and the health overview."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

ALERT_LIFETIME = timedelta(days=14)
HEALTH_BANDS = ("at_risk", "neutral", "healthy")


def alert_expires_at(fired_at: datetime) -> datetime:
    return fired_at + ALERT_LIFETIME


def alert_active(fired_at: datetime, now: datetime) -> bool:
    """An alert shows for 14 days after it fired; there is no cap on how many."""
    return fired_at <= now < alert_expires_at(fired_at)


@dataclass(frozen=True)
class HealthOverview:
    average_score: float | None
    bands: Mapping[str, Mapping[str, Any]]  # band -> {count, share, link}


def health_overview(scores: Sequence[tuple[float, str]], link_for_band: Mapping[str, str]
                    ) -> HealthOverview | None:
    """Average score, and count and share per band, of the user's customers'
    current scores (score, band). None when no customer has a score."""
    if not scores:
        return None
    total = len(scores)
    bands = {}
    for band in HEALTH_BANDS:
        count = sum(1 for _, b in scores if b == band)
        bands[band] = {"count": count, "share": round(count / total, 4),
                       "link": link_for_band[band]}
    return HealthOverview(round(sum(s for s, _ in scores) / total, 2), bands)
