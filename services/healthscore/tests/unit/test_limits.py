"""Live and draft profile limits per account tier (R-HLTH-1)."""

import pytest

from crm_healthscore.domain.limits import (
    LimitReached,
    ProfileCounts,
    check_can_create_draft,
    check_can_publish,
)


@pytest.mark.parametrize(("tier", "drafts"), [("standard", 5), ("enterprise", 20)])
def test_draft_limit_per_tier(tier, drafts):
    # R-HLTH-1: standard 5 drafts, enterprise 20
    check_can_create_draft(tier, ProfileCounts(live=0, drafts=drafts - 1))
    with pytest.raises(LimitReached) as caught:
        check_can_create_draft(tier, ProfileCounts(live=0, drafts=drafts))
    assert (caught.value.limit, caught.value.allowed) == ("draft", drafts)
    assert str(caught.value) == f"the {tier} tier allows {drafts} draft score profiles"


@pytest.mark.parametrize(("tier", "live"), [("standard", 1), ("enterprise", 10)])
def test_live_limit_per_tier(tier, live):
    # R-HLTH-1: standard 1 live, enterprise 10
    check_can_publish(tier, ProfileCounts(live=live - 1, drafts=1))
    with pytest.raises(LimitReached) as caught:
        check_can_publish(tier, ProfileCounts(live=live, drafts=1))
    assert (caught.value.limit, caught.value.allowed) == ("live", live)


def test_publishing_the_edits_of_a_live_profile_replaces_it():
    # R-HLTH-1: unpublished edits are a draft; publishing them keeps one live profile
    check_can_publish("standard", ProfileCounts(live=1, drafts=1), replaces_live=True)


def test_an_unknown_tier_is_an_error():
    with pytest.raises(ValueError, match="unknown account tier 'gold'"):
        check_can_create_draft("gold", ProfileCounts(0, 0))
