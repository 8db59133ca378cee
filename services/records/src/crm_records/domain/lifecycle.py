"""Lifecycle stage rules (R-LIFE-1..6).

Stages only move forward (R-LIFE-2). Moving back takes a clear first:
setting the stage to "" (or null) clears it, and any stage may follow a
clear. The hosted CRM's way to do both in one request is to send the clear
and the new stage as two consecutive inputs for the same record in one batch
update; our API keeps that, and the handler passes every value the request
assigns to `lifecyclestage` for one record, in request order, to
`apply_lifecycle_change(current, *requested)`:

    apply_lifecycle_change("customer", "lead")      -> LifecycleRegression
    apply_lifecycle_change("customer", "", "lead")  -> "lead"   (one request)
    apply_lifecycle_change("customer", "")          -> None     (then, later:)
    apply_lifecycle_change(None, "lead")            -> "lead"   (two requests)

Automation (deal won, lost or opened) never moves a stage backward and never
clears it; its decisions are the `stage_after_*` functions.

Where a new contact starts depends on how it was created (R-LIFE-3); the whole
table is `INITIAL_STAGE_BY_SOURCE`, below, and nowhere else.
"""

from __future__ import annotations

from collections.abc import Mapping

from crm_records.domain.errors import (
    InvalidPropertyValues,
    LifecycleRegression,
    PropertyError,
    UnknownCreationSource,
)

LIFECYCLE_PROPERTY = "lifecyclestage"

# R-LIFE-1: the funnel, first to last.
LIFECYCLE_STAGES: tuple[str, ...] = (
    "subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead",
    "opportunity", "customer", "evangelist", "other",
)
_RANK = {stage: rank for rank, stage in enumerate(LIFECYCLE_STAGES)}

# R-LIFE-3: creation source (history source names, R-REC-4) -> initial stage.
# "FORM_SUBSCRIPTION" is a FORM source whose form is a subscription form.
INITIAL_STAGE_BY_SOURCE: Mapping[str, str] = {
    "CRM_UI": "lead",
    "IMPORT": "lead",
    "API": "lead",
    "INTEGRATION": "lead",
    "CONVERSATIONS": "lead",
    "MEETINGS": "lead",
    "WORKFLOW": "lead",
    "AUTOMATION": "lead",
    "FORM": "lead",
    "FORM_SUBSCRIPTION": "subscriber",
    "ANALYTICS": "subscriber",
}


def stage_rank(stage: str) -> int:
    """Position in the funnel; raises InvalidPropertyValues for an unknown stage."""
    try:
        return _RANK[stage]
    except KeyError:
        raise InvalidPropertyValues([PropertyError(
            LIFECYCLE_PROPERTY, stage, "INVALID_OPTION",
            f"{stage} was not one of the allowed options: [{', '.join(LIFECYCLE_STAGES)}]",
        )]) from None


def _is_clear(value: str | None) -> bool:
    return value is None or value.strip() == ""


def apply_lifecycle_change(current: str | None, *requested: str | None) -> str | None:
    """The stage after applying each requested value in order (None means cleared)."""
    stage = None if _is_clear(current) else current
    for value in requested:
        if _is_clear(value):
            stage = None
            continue
        assert value is not None
        rank = stage_rank(value)  # an unknown stage is refused, even on an empty record
        if stage is not None and rank < stage_rank(stage):
            raise LifecycleRegression(stage, value)
        stage = value
    return stage


def initial_stage(source: str, subscription_form: bool = False) -> str:
    """The stage a contact created from `source` starts in (R-LIFE-3)."""
    key = "FORM_SUBSCRIPTION" if source == "FORM" and subscription_form else source
    try:
        return INITIAL_STAGE_BY_SOURCE[key]
    except KeyError:
        raise UnknownCreationSource(source) from None


def stage_on_create(source: str, requested: str | None, subscription_form: bool = False) -> str:
    """A stage the create request names wins; otherwise the source's initial stage."""
    if not _is_clear(requested):
        assert requested is not None
        stage_rank(requested)
        return requested
    return initial_stage(source, subscription_form)


def _at_least(current: str | None, floor: str) -> str:
    if _is_clear(current):
        return floor
    assert current is not None
    return current if stage_rank(current) >= stage_rank(floor) else floor


def stage_after_open_deal(current: str | None) -> str:
    """R-LIFE-6: an open deal lifts a contact or company below opportunity to opportunity."""
    return _at_least(current, "opportunity")


def stage_after_deal_closed_won(current: str | None) -> str:
    """R-LIFE-4: a won deal makes its contacts and companies customers (never lowers them)."""
    return _at_least(current, "customer")


def stage_after_deal_closed_lost(current: str | None,
                                 has_other_closed_won_deal: bool) -> str | None:
    """R-LIFE-5: a lost deal demotes no one; a record with another won deal is a customer."""
    if has_other_closed_won_deal:
        return _at_least(current, "customer")
    return None if _is_clear(current) else current
