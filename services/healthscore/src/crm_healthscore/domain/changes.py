"""Score changes with their cause (R-HLTH-2, R-HLTH-6) and the alerts they raise (R-HLTH-3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .scoring import ScoreResult

CAUSE_TIME = "time"


def event_cause(event_id: str) -> str:
    return f"event:{event_id}"


def profile_cause(profile_id: str) -> str:
    """A recompute because the profile itself was published or edited."""
    return f"profile:{profile_id}"


@dataclass(frozen=True)
class StoredScore:
    """A score as kept: what a new result is compared with (the explanation aside)."""

    profile_id: str
    customer_id: str
    score: int
    band: str


@dataclass(frozen=True)
class ScoreChange:
    """One move of a customer's score. None on the old side: its first score; None on the
    new side: it no longer has one (it left the profile's segments)."""

    customer_id: str
    profile_id: str
    old_score: int | None
    new_score: int | None
    old_band: str | None
    new_band: str | None
    cause: str
    at: datetime


def diff(previous: ScoreResult | StoredScore | None,
         current: ScoreResult | StoredScore | None, cause: str,
         at: datetime) -> ScoreChange | None:
    """The change from `previous` to `current`, or None when score and band are the same."""
    if previous is None and current is None:
        return None
    old = (previous.score, previous.band) if previous else (None, None)
    new = (current.score, current.band) if current else (None, None)
    if old == new:
        return None
    either = current or previous
    assert either is not None
    return ScoreChange(
        customer_id=either.customer_id,
        profile_id=either.profile_id,
        old_score=old[0],
        new_score=new[0],
        old_band=old[1],
        new_band=new[1],
        cause=cause,
        at=at,
    )


def is_alert(change: ScoreChange) -> bool:
    """A change of band alerts the customer's CSM. A first score or a lost score is not a
    change of band: publishing a profile must not page every CSM at once."""
    return (change.old_band is not None and change.new_band is not None
            and change.old_band != change.new_band)
