"""Lifecycle stage and pipeline rules in the write path, on the in-memory store."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from crm_records.domain.errors import (
    InvalidPropertyValues,
    LifecycleRegression,
    MissingRequiredProperties,
)
from crm_records.handlers.pipelines import PipelinesHandler
from crm_records.handlers.records import Actor, RecordsHandler

NOW = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
API = Actor(account_id=7, user_id=70)


def handler(uow) -> RecordsHandler:
    return RecordsHandler(uow, clock=lambda: NOW)


async def test_initial_stage_follows_the_creation_source(uow):  # R-LIFE-3
    records = handler(uow)
    [by_api] = await records.create(API, "contacts", [{"firstname": "A"}])
    analytics = Actor(account_id=7, user_id=None, source="ANALYTICS")
    [by_analytics] = await records.create(analytics, "contacts", [{"firstname": "B"}])
    [chosen] = await records.create(API, "contacts", [{"lifecyclestage": "customer"}])
    assert by_api.properties["lifecyclestage"] == "lead"
    assert by_analytics.properties["lifecyclestage"] == "subscriber"
    assert chosen.properties["lifecyclestage"] == "customer"


async def test_stage_moves_forward_only_unless_cleared(uow):  # R-LIFE-2
    records = handler(uow)
    [contact] = await records.create(API, "contacts", [{"lifecyclestage": "customer"}])
    with pytest.raises(LifecycleRegression):
        await records.update(API, "contacts", [(contact.record_id, {"lifecyclestage": "lead"})])
    [back] = await records.update(API, "contacts", [(contact.record_id, {"lifecyclestage": ""}),
                                                    (contact.record_id,
                                                     {"lifecyclestage": "lead"})])
    assert back.properties["lifecyclestage"] == "lead"
    await records.update(API, "contacts", [(contact.record_id, {"lifecyclestage": ""})])
    [again] = await records.update(API, "contacts",
                                   [(contact.record_id, {"lifecyclestage": "subscriber"})])
    assert again.properties["lifecyclestage"] == "subscriber"


async def test_deal_stage_sets_pipeline_and_closed_flags(uow):  # R-PIPE-1
    records = handler(uow)
    [deal] = await records.create(API, "deals", [{"dealname": "D", "dealstage": "closedwon"}])
    assert deal.properties["pipeline"] == "default"
    assert deal.properties["hs_is_closed_won"] == "true"
    assert deal.properties["hs_deal_stage_probability"] == "1"
    with pytest.raises(InvalidPropertyValues) as refused:
        await records.create(API, "deals", [{"dealstage": "nowhere"}])
    assert refused.value.errors[0].name == "dealstage"


async def test_entering_a_stage_needs_its_required_properties(uow):  # R-PIPE-2 R-PIPE-3
    records = handler(uow)
    pipelines = PipelinesHandler(uow, clock=lambda: NOW)

    def require_amount(pipeline):
        return replace(pipeline, stages=tuple(
            replace(s, required_properties=("amount", "closedate")) if s.id == "contractsent"
            else s for s in pipeline.stages))

    await pipelines.change(7, "deals", "default", require_amount)
    [deal] = await records.create(API, "deals", [{"dealname": "D",
                                                  "dealstage": "qualifiedtobuy"}])
    with pytest.raises(MissingRequiredProperties) as refused:
        await records.update(API, "deals", [(deal.record_id, {"dealstage": "contractsent",
                                                              "amount": "10"})])
    assert refused.value.missing == ["closedate"]
    await records.update(API, "deals", [(deal.record_id, {
        "dealstage": "contractsent", "amount": "10", "closedate": "2024-06-01"})])
    moves = [h for h in uow.state.history if h[1] == "dealstage"]
    assert [m[2] for m in moves] == ["qualifiedtobuy", "contractsent"]
    [*_, last] = uow.events_of("crm.record.updated.v1")
    assert {"name": "dealstage", "old_value": "qualifiedtobuy", "new_value": "contractsent",
            "source": "API", "source_id": None, "user_id": 70} in last.event.data["changes"]
