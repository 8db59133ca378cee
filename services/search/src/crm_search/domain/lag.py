"""Index lag: how long an event took from being written to being searchable
(R-SRCH-2). Pure: the consumer feeds it, the API and metrics read it."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

RECENT_SAMPLES = 1000


def lag_samples(events: Iterable[tuple[Mapping[str, Any], datetime]],
                indexed_at: datetime) -> dict[str, list[tuple[float, datetime]]]:
    """Per object type: (seconds from event time to `indexed_at`, event time)."""
    samples: dict[str, list[tuple[float, datetime]]] = {}
    for data, event_time in events:
        object_type = data.get("object_type")
        if isinstance(object_type, str):
            seconds = max(0.0, (indexed_at - event_time).total_seconds())
            samples.setdefault(object_type, []).append((seconds, event_time))
    return samples


def percentile(values: Iterable[float], fraction: float) -> float | None:
    """Nearest-rank percentile; None without values."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, min(len(ordered), math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]


class RecentLag:
    """The last RECENT_SAMPLES lags per object type seen by this replica."""

    def __init__(self, size: int = RECENT_SAMPLES) -> None:
        self.size = size
        self._samples: dict[str, deque[float]] = {}

    def add(self, object_type: str, seconds: Iterable[float]) -> None:
        self._samples.setdefault(object_type, deque(maxlen=self.size)).extend(seconds)

    def summary(self, object_type: str) -> dict[str, float | int | None]:
        values = list(self._samples.get(object_type, ()))
        return {"samples": len(values), "p50": percentile(values, 0.50),
                "p99": percentile(values, 0.99)}
