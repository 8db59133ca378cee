"""Bands: each profile's own cut-offs turn a 0-100 score into a category (R-HLTH-1)."""

from __future__ import annotations

from .profile import Bands

AT_RISK = "at_risk"
NEUTRAL = "neutral"
HEALTHY = "healthy"
BAND_NAMES = (AT_RISK, NEUTRAL, HEALTHY)


def band(score: int, bands: Bands) -> str:
    if score < bands.at_risk_below:
        return AT_RISK
    if score >= bands.healthy_from:
        return HEALTHY
    return NEUTRAL
