"""Why a customer has its score (R-HLTH-6): per group what was earned and what the cap
took, each matched rule with its events, and every change with its cause."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from .changes import ScoreChange
from .scoring import RuleMatch, ScoreResult


@dataclass(frozen=True)
class GroupExplanation:
    name: str
    max_points: int
    raw_points: float
    capped_points: float
    cap_note: str
    rules: tuple[RuleMatch, ...]


@dataclass(frozen=True)
class Explanation:
    customer_id: str
    profile_id: str
    score: int
    band: str
    groups: tuple[GroupExplanation, ...]
    next_change_at: datetime | None
    changes: tuple[ScoreChange, ...]


def explain(result: ScoreResult, changes: Iterable[ScoreChange] = ()) -> Explanation:
    """`changes` may hold any customer's changes; only this customer's for this profile
    are kept, oldest first."""
    mine = sorted(
        (c for c in changes
         if c.customer_id == result.customer_id and c.profile_id == result.profile_id),
        key=lambda c: c.at,
    )
    return Explanation(
        customer_id=result.customer_id,
        profile_id=result.profile_id,
        score=result.score,
        band=result.band,
        groups=tuple(
            GroupExplanation(group.name, group.max_points, group.raw_points,
                             group.capped_points, _cap_note(group.raw_points, group.max_points),
                             group.matched)
            for group in result.groups
        ),
        next_change_at=result.next_change_at,
        changes=tuple(mine),
    )


def _cap_note(raw: float, max_points: int) -> str:
    if raw > max_points:
        return f"earned {raw:g}, capped at the maximum {max_points}"
    if raw < 0:
        return f"earned {raw:g}, raised to 0"
    return f"earned {raw:g} of {max_points}"
