"""How many live and draft profiles an account may hold (R-HLTH-1).

A draft is a profile not yet published, or the unpublished edits of a live profile;
both count against the draft limit.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProfileCounts:
    live: int
    drafts: int


TIER_LIMITS: dict[str, ProfileCounts] = {
    "standard": ProfileCounts(live=1, drafts=5),
    "enterprise": ProfileCounts(live=10, drafts=20),
}


class LimitReached(ValueError):
    def __init__(self, tier: str, limit: str, allowed: int):
        self.tier, self.limit, self.allowed = tier, limit, allowed
        super().__init__(f"the {tier} tier allows {allowed} {limit} score "
                         f"profile{'s' if allowed != 1 else ''}")


def limits_for(tier: str) -> ProfileCounts:
    if tier not in TIER_LIMITS:
        raise ValueError(f"unknown account tier '{tier}'")
    return TIER_LIMITS[tier]


def check_can_create_draft(tier: str, counts: ProfileCounts) -> None:
    """Before storing a new draft (a new profile, or the first edit of a live one)."""
    allowed = limits_for(tier).drafts
    if counts.drafts >= allowed:
        raise LimitReached(tier, "draft", allowed)


def check_can_publish(tier: str, counts: ProfileCounts, *, replaces_live: bool = False) -> None:
    """Before publishing a draft. Publishing the edits of a live profile replaces it, so
    the number of live profiles stays the same."""
    allowed = limits_for(tier).live
    if not replaces_live and counts.live >= allowed:
        raise LimitReached(tier, "live", allowed)
