"""Index lag is measured per object type and exposed as an endpoint and as
Prometheus metrics (R-SRCH-2)."""

from __future__ import annotations

import pytest

from crm_platform.testing import eventually

pytestmark = pytest.mark.integration


async def test_lag_per_object_type_after_indexing(platform):  # R-SRCH-2
    _, headers = await platform.new_account("lag")
    created = await platform.records.post("/crm/v3/objects/deals", headers=headers,
                                          json={"properties": {"dealname": "Lag deal"}})
    assert created.status_code == 201, created.text
    token = created.headers["X-CRM-Consistency-Token"]

    async def indexed() -> bool:
        answer = await platform.search.post(
            "/crm/v3/objects/deals/search", json={"limit": 1},
            headers={**headers, "X-CRM-Consistency-Token": token})
        return answer.status_code == 200 and \
            answer.headers["X-CRM-Index-Consistency"] == "applied"

    await eventually(indexed, timeout=600, interval=0.5, what="the deal indexed")
    answer = await platform.search.get("/search/v1/lag", headers=headers)
    assert answer.status_code == 200, answer.text
    deals = {t["objectType"]: t for t in answer.json()["objectTypes"]}["deals"]
    assert deals["eventsApplied"] >= 1
    assert deals["recentLagSeconds"]["samples"] >= 1
    assert 0 <= deals["recentLagSeconds"]["p50"] <= deals["recentLagSeconds"]["p99"]
    assert deals["lastEventTime"] <= deals["lastAppliedAt"]
    assert answer.json()["consumerGroup"].endswith("search-index")

    exposed = (await platform.search.get("/metrics")).text
    assert 'crm_search_index_lag_seconds_bucket{le="0.5",object_type="deals"}' in exposed
    assert 'crm_search_events_indexed_total{object_type="deals"}' in exposed

    refused = await platform.search.get("/search/v1/lag")
    assert refused.status_code == 401
